package report

// rubyUpgradeNote is said when the report shows a Ruby without Ruby's own
// fork-safety fix (RubyLacksForkFix). It only covers Ruby's own
// path-normalising CFString use; gems that call into Apple frameworks after
// fork (pg's GSSAPI lookup) still crash.
const rubyUpgradeNote = "This Ruby lacks ruby#6426 (Ruby initialises the Objective-C classes it uses before fork; Bug #18912), which is in 3.2.0 and was backported to 3.1.3, 3.0.5 and 2.7.7: upgrade Ruby within its line (2.7.7, 3.0.5, 3.1.3) or to 3.2 or later; that fixes crashes in Ruby's own calls, not those in gems."

// rubyTools are the rows for Ruby's forking servers, preloaders and job
// runners, and for Ruby itself.
func rubyTools() []Framework {
	spring := "Spring forks every command from its preloaded server: run the crashing command without it, DISABLE_SPRING=1 bin/rails ..., or remove spring from the Gemfile. (Spring documents DISABLE_SPRING as the way to stop commands running through it; that this avoids the macOS crash comes from reporters in rails/spring#606, not from Spring's maintainers.)"
	pg := "The pg gem's connection looked up Kerberos (GSSAPI) credentials in a forked child, which calls into Apple frameworks: disable GSS encryption, gssencmode: disable in config/database.yml (or PGGSSENCMODE=disable in the environment, or ?gssencmode=disable in the URL), as a contributor suggested in ruby-pg#311 and its reporter confirmed."
	resque := "Resque forks a child per job: run the worker with FORK_PER_JOB=false (QUEUE=* FORK_PER_JOB=false rake resque:work) so jobs run in the worker process itself (Resque::Worker#fork_per_job?)."
	solidQueue := "Solid Queue's supervisor forks a process for each worker, dispatcher and scheduler (fork mode, its default). Run them as threads in one process instead, async mode (solid_queue 1.3.0 and later): bin/jobs --mode async, or SOLID_QUEUE_SUPERVISOR_MODE=async; with the Puma plugin, solid_queue_mode :async after plugin :solid_queue in config/puma.rb (in fork mode the plugin forks the supervisor from Puma). Its README recommends fork mode where forking works; in development on macOS, async mode is the way its maintainer points to (solid_queue#628)."
	falcon := "Falcon's serve command runs its server in forked processes by default (Async::Container::Forked): run it threaded instead, falcon serve --threaded (with falcon host, configure a threaded container), so that nothing is forked."
	rails := "Rails' parallel testing forks a worker per process: run the tests in threads, parallelize(workers: :number_of_processors, with: :threads), or without parallelism, PARALLEL_WORKERS=1 bin/rails test."
	return []Framework{
		{
			Name: "solid_queue", Runtime: RuntimeRuby, Dists: []string{"solid_queue"},
			Recognised: "Parent command runs `bin/jobs` (`bin/jobs start`, `bin/rails solid_queue:start`) without `--mode async`, or its title reads `solid-queue-supervisor(1.2.1): ...` (Solid Queue's procline); the project's `config/puma.rb` with `plugin :solid_queue` and no `solid_queue_mode :async` (the plugin forks the supervisor from Puma); its `Gemfile.lock` gives the solid_queue version. `config/queue.yml` holds no mode: its workers' `processes` count only in fork mode.",
			Fix:        solidQueue, CFFix: solidQueue,
			FixSource: "https://github.com/rails/solid_queue#fork-vs-async-mode", SourceKind: SourceDocs, Checked: checked,
		},
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
			FixSource: "https://github.com/ged/ruby-pg/issues/311", SourceKind: SourceUserReport, Checked: checked,
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
			Fix:        "unicorn always forks its workers from its master (its worker_processes setting, at least 1) and documents no macOS fix: in development run a server that does not fork instead, or start unicorn with the variable set. " + variableRuleAny,
			CFFix:      "unicorn always forks its workers from its master and has no mode that does not: in development run a server that does not fork instead.",
			FixSource:  "https://yhbt.net/unicorn/Unicorn/Configurator.html#method-i-worker_processes", SourceKind: SourceDocs, Checked: checked,
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
			Name: "falcon", Runtime: RuntimeRuby, Dists: []string{"falcon", "async-container"},
			Recognised: "Parent command runs `falcon serve` without `--threaded`, or `falcon host`.",
			Fix:        falcon, CFFix: falcon,
			FixSource: "https://github.com/socketry/falcon/blob/main/lib/falcon/command/serve.rb", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "passenger", Runtime: RuntimeRuby, Dists: []string{"passenger"},
			Recognised: "Parent title reads `Passenger AppPreloader: ...` (smart spawning: the preloader forks each application process).",
			Fix:        "Passenger's smart spawning forks each application process from a preloader (Passenger loads Foundation in the preloader before it forks, Phusion's workaround from 2017, so a crash that still happens comes from what the app loads). Use direct spawning, which starts each process as a new program: passenger start --spawn-method direct (Apache PassengerSpawnMethod direct, Nginx passenger_spawn_method direct).",
			CFFix:      "Passenger's smart spawning forks each application process from a preloader. Use direct spawning, which starts each process as a new program: passenger start --spawn-method direct (Apache PassengerSpawnMethod direct, Nginx passenger_spawn_method direct).",
			FixSource:  "https://blog.phusion.nl/2017/10/13/why-ruby-app-servers-break-on-macos-high-sierra-and-what-can-be-done-about-it/", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "sidekiq", Runtime: RuntimeRuby, Dists: []string{"sidekiq"}, NotAffected: true,
			Recognised: "Parent command runs `sidekiq` (`bundle exec sidekiq`) or its title reads `sidekiq 7.2.0 app [0 of 5 busy]`; `sidekiqswarm` is its own row.",
			Fix:        "Not the tool that forked: Sidekiq runs its jobs in threads and does not fork, as its maintainer says (sidekiq#3833). Look at what the jobs or a gem fork (spring, a preloader, a library that daemonises).",
			CFFix:      "Not the tool that forked: Sidekiq runs its jobs in threads and does not fork, as its maintainer says (sidekiq#3833). Look at what the jobs or a gem fork (spring, a preloader, a library that daemonises).",
			FixSource:  "https://github.com/sidekiq/sidekiq/issues/3833", SourceKind: SourceMaintainer, Checked: checked,
		},
		{
			Name: "sidekiqswarm", Runtime: RuntimeRuby, Dists: []string{"sidekiq-ent"},
			Recognised: "Parent command runs `sidekiqswarm` (Sidekiq Enterprise's multi-process mode).",
			Fix:        "sidekiqswarm forks its Sidekiq children after preloading the Bundler groups in SIDEKIQ_PRELOAD (and the app with SIDEKIQ_PRELOAD_APP): in development run plain sidekiq processes instead, or preload less (SIDEKIQ_PRELOAD= empty) so the parent loads no macOS frameworks before it forks.",
			CFFix:      "sidekiqswarm forks its Sidekiq children: in development run plain sidekiq processes instead, which do not fork.",
			FixSource:  "https://github.com/sidekiq/sidekiq/wiki/Ent-Multi-Process", SourceKind: SourceDocs, Checked: checked,
		},
		{
			Name: "ruby", Runtime: RuntimeRuby,
			Recognised: "The crashed Ruby lacks Ruby's own fork-safety fix, by version line: older than 2.7.7, 3.0.x older than 3.0.5, 3.1.x older than 3.1.3 (its version from `libruby` or the install path: rbenv, rvm, asdf, chruby, Homebrew's Cellar), and no tool above is named; with a tool, its fix comes first and this note follows. A Ruby crash on macOS 15.0 adds that macOS 15.1 is needed (ruby/ruby#11849).",
			Fix:        rubyUpgradeNote,
			FixSource:  "https://github.com/ruby/ruby/pull/6426", SourceKind: SourceDocs, Checked: checked,
		},
	}
}

// otherTools are the rows for PHP and Perl.
func otherTools() []Framework {
	return []Framework{
		{
			Name: "php-fpm", Runtime: RuntimePHP,
			Recognised: "The crashed process or its parent is `php-fpm` (title `php-fpm: master process (...)`).",
			Fix:        "PHP-FPM forks its pool workers from the master and has no spawn mode, and PHP ships no fix yet: in php-src#11818 a maintainer said a build option linking -sectcreate __DATA __objc_fork_ok would be accepted. Meanwhile the variable works only in the environment the master starts with: add it to the launchd plist that starts php-fpm yourself (Homebrew's change to set it in its service, homebrew-core#137909, was closed), not env[...] in a pool (too late). It removes the check rather than making the fork safe (php-src#12044, where FPM setting it itself was turned down). " + variableRuleAny,
			FixSource:  "https://github.com/php/php-src/issues/11818", SourceKind: SourceMaintainer, Checked: checked,
		},
		{
			Name: "cpm", Runtime: RuntimePerl,
			Recognised: "Parent command runs `cpm` (`cpm install`, `perl cpm install`).",
			Fix:        "Upgrade cpm to 0.997017 or later: cpm loads Foundation before it forks workers since 0.997016 (cpm#247; 0.997017 completed it, #248) and uses Darwin::InitObjC since 0.997022, its maintainer's fix for cpm#246. For older cpm, the reporter's workaround is env OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES cpm install ...",
			CFFix:      "",
			FixSource:  "https://github.com/skaji/cpm/issues/246", SourceKind: SourceMaintainer, Checked: checked,
		},
	}
}
