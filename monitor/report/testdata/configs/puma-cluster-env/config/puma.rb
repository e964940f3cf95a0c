# This configuration file will be evaluated by Puma. The top-level methods that
# are invoked here are part of Puma's configuration DSL. For more information
# about methods provided by the DSL, see https://puma.io/puma/Puma/DSL.html.
#
# Puma starts a configurable number of processes (workers) and each process
# serves each request in a thread from an internal thread pool.
#
# You can control the number of workers using ENV["WEB_CONCURRENCY"]. You
# should only set this value when you want to run 2 or more workers. The
# default is already 1. You can set it to `auto` to automatically start a worker
# for each available processor.
#
# The ideal number of threads per worker depends both on how much time the
# application spends waiting for IO operations and on how much you wish to
# prioritize throughput over latency.
#
# As a rule of thumb, increasing the number of threads will increase how much
# traffic a given process can handle (throughput), but due to CRuby's
# Global VM Lock (GVL) it has diminishing returns and will degrade the
# response time (latency) of the application.
#
# The default is set to 3 threads as it's deemed a decent compromise between
# throughput and latency for the average Rails application.
#
# Any libraries that use a connection pool or another resource pool should
# be configured to provide at least as many connections as the number of
# threads. This includes Active Record's `pool` parameter in `database.yml`.

# === 환경별 스레드/워커 설정 ===
environment = ENV.fetch("RAILS_ENV", "development")

if environment == "production"
  # 프로덕션: CPU 코어에 맞게 워커 설정, 스레드는 I/O 대기 고려
  threads_count = ENV.fetch("RAILS_MAX_THREADS", 5).to_i
  workers_count = ENV.fetch("WEB_CONCURRENCY", 4).to_i
else
  # 개발/테스트: 단일 워커, 최소 스레드 (빠른 시작, 낮은 메모리)
  threads_count = ENV.fetch("RAILS_MAX_THREADS", 5).to_i
  workers_count = 0  # 클러스터 모드 비활성화
end

threads threads_count, threads_count

# Specifies the `port` that Puma will listen on to receive requests; default is 3000.
port ENV.fetch("PORT", 3000)

# Allow puma to be restarted by `bin/rails restart` command.
plugin :tmp_restart

# Run the Solid Queue supervisor inside of Puma for single-server deployments.
plugin :solid_queue if ENV["SOLID_QUEUE_IN_PUMA"]

# Specify the PID file. Defaults to tmp/pids/server.pid in development.
# In other environments, only set the PID file if requested.
pidfile ENV["PIDFILE"] if ENV["PIDFILE"]

# === 프로덕션 클러스터 모드 설정 ===
if workers_count > 0
  workers workers_count

  # 워커 포크 전 앱 사전 로드 (메모리 효율, Copy-on-Write)
  preload_app!

  # 워커 부팅 후 DB 연결 재설정
  on_worker_boot do
    ActiveRecord::Base.establish_connection if defined?(ActiveRecord)
  end

  # 워커 종료 전 정리
  on_worker_shutdown do
    ActiveRecord::Base.connection_pool.disconnect! if defined?(ActiveRecord)
  end
end
