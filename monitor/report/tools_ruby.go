package report

// rubyFixedIn are the first Ruby releases that initialise, before fork(),
// the Objective-C classes Ruby's own CFString calls use (ruby/ruby#6426,
// Bug #18912): Ruby 3.2.0, and 3.1.3 through the backport ruby/ruby#6440
// (its reporter confirmed 3.1.3 carries the commit).
const rubyFixedIn = "3.1.3"

// rubyUpgradeNote is said when the report shows an older Ruby. It only
// covers Ruby's own path-normalising CFString use; gems that call into
// Apple frameworks after fork (pg's GSSAPI lookup) still crash.
const rubyUpgradeNote = "This Ruby is older than 3.1.3, the first release with ruby#6426 (Ruby initialises the Objective-C classes it uses before fork): upgrade Ruby to 3.1.3, 3.2 or later; that fixes crashes in Ruby's own calls, not those in gems."

// rubyTools are the rows for Ruby's forking servers, preloaders and job
// runners, and for Ruby itself.
func rubyTools() []Framework {
	spring := "Spring forks every command from its preloaded server: run the crashing command without it, DISABLE_SPRING=1 bin/rails ..., or remove spring from the Gemfile. (Spring documents DISABLE_SPRING as the way to stop commands running through it; that this avoids the macOS crash comes from reporters in rails/spring#606, not from Spring's maintainers.)"
	pg := "The pg gem's connection looked up Kerberos (GSSAPI) credentials in a forked child, which calls into Apple frameworks: disable GSS encryption, gssencmode: disable in config/database.yml (or PGGSSENCMODE=disable in the environment, or ?gssencmode=disable in the URL), as a pg maintainer confirmed in ruby-pg#311."
	resque := "Resque forks a child per job: run the worker with FORK_PER_JOB=false (QUEUE=* FORK_PER_JOB=false rake resque:work) so jobs run in the worker process itself (Resque::Worker#fork_per_job?)."
	rails := "Rails' parallel testing forks a worker per process: run the tests in threads, parallelize(workers: :number_of_processors, with: :threads), or without parallelism, PARALLEL_WORKERS=1 bin/rails test."
	return []Framework{
		{
			Name: "puma", Runtime: RuntimeRuby, Dists: []string{"puma"},
			Recognised: "Parent command runs `puma` or `bin/rails server` (`bundle exec puma -C config/puma.rb`), or its title reads `puma 6.4.0 (tcp://...) [app]` or `puma: cluster worker N: ...`.",
			Fix:        "Puma's cluster mode forks its workers. In development run a single process, workers 0 in config/puma.rb (or WEB_CONCURRENCY=0). To keep cluster mode, load Foundation before the fork, before_fork { require 'fiddle'; Fiddle.dlopen('/System/Library/Frameworks/Foundation.framework/Foundation') }, the workaround in puma#1421.",
			CFFix:      "Puma's cluster mode forks its workers: in development run a single process, workers 0 in config/puma.rb (or WEB_CONCURRENCY=0), so nothing is forked.",
			FixSource:  "https://github.com/puma/puma/issues/1421", SourceKind: SourceUserReport, Checked: checked,
		},
		{
			Name: "spring", Runtime: RuntimeRuby, Dists: []string{"spring"},
			Recognised: "Parent command runs `spring` or its title starts with `spring app` or `spring server` (Spring's process titles).",
			Fix:        spring, CFFix: spring,
			FixSource: "https://github.com/rails/spring#temporarily-disabling-spring", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "pg", Runtime: RuntimeRuby, Dists: []string{"pg"}, Specific: true,
			Recognised: "The crashed child loaded the pg gem's `pg_ext.bundle` and its crashed thread runs the GSSAPI lookup (`pg_GSS_have_cred_cache`, `gss_acquire_cred`, `krb5`); kept over the server that forked.",
			Fix:        pg, CFFix: pg,
			FixSource: "https://github.com/ged/ruby-pg/issues/311", SourceKind: SourceMaintainer, Checked: checked,
		},
		{
			Name: "resque", Runtime: RuntimeRuby, Dists: []string{"resque"},
			Recognised: "Parent command runs `rake resque:work` / `rake resque:workers`, or its title reads `resque-2.6.0: ...`.",
			Fix:        resque, CFFix: resque,
			FixSource: "https://github.com/resque/resque/blob/master/lib/resque/worker.rb", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "resque-pool", Runtime: RuntimeRuby, Dists: []string{"resque-pool"},
			Recognised: "Parent command runs `resque-pool` or its title reads `resque-pool-master...`.",
			Fix:        "resque-pool forks its workers and has no option not to: start the workers it manages as separate rake resque:work processes (with FORK_PER_JOB=false), or start resque-pool with the variable set, the workaround its reporters give in resque-pool#168. " + variableRuleAny,
			CFFix:      "resque-pool forks its workers and has no option not to: start the workers as separate rake resque:work processes, with FORK_PER_JOB=false, instead.",
			FixSource:  "https://github.com/resque/resque-pool/issues/168", SourceKind: SourceUserReport, Checked: checked,
		},
		{
			Name: "unicorn", Runtime: RuntimeRuby, Dists: []string{"unicorn"},
			Recognised: "Parent command runs `unicorn` / `unicorn_rails`, or its title reads `unicorn master ...` / `unicorn worker[N] ...`.",
			Fix:        "unicorn always forks its workers and documents no macOS fix: in development run a single-process server instead (bin/rails server with workers 0), or start unicorn with the variable set, the workaround Phusion describes for Ruby app servers on macOS. " + variableRuleAny,
			FixSource:  "https://blog.phusion.nl/2017/10/13/why-ruby-app-servers-break-on-macos-high-sierra-and-what-can-be-done-about-it/", SourceKind: SourceUserReport, Checked: checked,
		},
		{
			Name: "rails-test", Runtime: RuntimeRuby,
			Recognised: "Parent command runs `bin/rails test` (`rails test`, `bin/rails test:system`).",
			Fix:        rails, CFFix: rails,
			FixSource: "https://guides.rubyonrails.org/testing.html#parallel-testing", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "parallel_tests", Runtime: RuntimeRuby, Dists: []string{"parallel_tests"}, NotAffected: true,
			Recognised: "Parent command runs `parallel_test`, `parallel_rspec`, `parallel_cucumber` or `rake parallel:spec`.",
			Fix:        "Not the tool that forked: parallel_tests starts each test process as a new program (IO.popen). Look at what the tests or a preloader (spring) fork.",
			CFFix:      "Not the tool that forked: parallel_tests starts each test process as a new program (IO.popen). Look at what the tests or a preloader (spring) fork.",
			FixSource:  "https://github.com/grosser/parallel_tests/blob/master/lib/parallel_tests/test/runner.rb", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "ruby", Runtime: RuntimeRuby,
			Recognised: "The crashed Ruby is older than 3.1.3 (its version from `libruby` or the install path: rbenv, rvm, asdf, chruby, Homebrew's Cellar) and no tool above is named; with a tool, its fix comes first and this note follows.",
			Fix:        rubyUpgradeNote,
			FixSource:  "https://github.com/ruby/ruby/pull/6426", SourceKind: SourceMaintainer, Checked: checked,
		},
	}
}

// otherTools are the rows for PHP and Perl.
func otherTools() []Framework {
	return []Framework{
		{
			Name: "php-fpm", Runtime: RuntimePHP,
			Recognised: "The crashed process or its parent is `php-fpm` (title `php-fpm: master process (...)`).",
			Fix:        "PHP-FPM forks its pool workers from the master and has no spawn mode. The only workaround is the variable in the environment the master starts with, e.g. environment_variables OBJC_DISABLE_INITIALIZE_FORK_SAFETY: \"YES\" in Homebrew's service plist, not env[...] in a pool (too late). PHP's maintainers call it not a good solution: it only removes the check (php-src#11818). " + variableRuleAny,
			FixSource:  "https://github.com/php/php-src/issues/11818", SourceKind: SourceMaintainer, Checked: checked,
		},
		{
			Name: "cpm", Runtime: RuntimePerl,
			Recognised: "Parent command runs `cpm` (`cpm install`, `perl cpm install`).",
			Fix:        "Upgrade cpm to 0.997022 or later: it initialises the Objective-C runtime before it forks workers (Darwin::InitObjC), its maintainer's fix for cpm#246. For older cpm, the reporter's workaround is env OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES cpm install ...",
			CFFix:      "",
			FixSource:  "https://github.com/skaji/cpm/issues/246", SourceKind: SourceMaintainer, Checked: checked,
		},
	}
}
