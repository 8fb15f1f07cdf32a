# Sourced by the bench scripts that run the proxy on its own, outside
# compare.sh (mallocs.sh, instructions.sh), with `here` set to bench/.
#
#   pick_mode MODE                 # http1|h2|h2up: sets cfg (bench/configs/...) and load (h2load's protocol flag)
#   start_local_upstream WORK      # an NGINX in WORK answering "ok" on 127.0.0.1:18080 (HTTP/1.1)
#                                  # and 18082 (h2c), the configs' endpoints; its pid joins the caller's pids
#   wait_started LOG               # until the proxy's log says it started (5 s at most)

pick_mode() {
  case $1 in
    http1) cfg=$here/configs/http1.yaml load=(--h1) ;;
    h2) cfg=$here/configs/h2.yaml load=() ;;
    h2up) cfg=$here/configs/h2-h2up.yaml load=() ;;
    *) return 1 ;;
  esac
}

start_local_upstream() {
  local work=$1
  mkdir -p "$work/up"
  cat >"$work/up/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/up/nginx.pid;
error_log $work/up/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $work/up/cb; proxy_temp_path $work/up/pt; fastcgi_temp_path $work/up/ft;
  uwsgi_temp_path $work/up/ut; scgi_temp_path $work/up/st;
  server { listen 127.0.0.1:18080; location / { return 200 "ok\n"; } }
  server { listen 127.0.0.1:18082 http2; location / { return 200 "ok\n"; } }
}
CONF
  nginx -p "$work/up" -e "$work/up/error.log" -c "$work/up/nginx.conf" &
  pids+=($!)
}

wait_started() {
  for _ in $(seq 50); do grep -q "started" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
