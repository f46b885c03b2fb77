# Shared by the benchmark scripts (sourced, not run).

# The mean plugin call (instantiate + call) of plugin $2 so far, in µs, from
# the server at base URL $1's /metrics; "-" before its first call.
plugin_call_mean_us() {
  curl -fs "$1/metrics" | awk -v p="$2" '
    $1 ~ "^promptsculptor_plugin_call_duration_seconds_sum\\{plugin=\""p"\"" {s=$2}
    $1 ~ "^promptsculptor_plugin_call_duration_seconds_count\\{plugin=\""p"\"" {c=$2}
    END { if (c>0) printf "%.0f", s/c*1e6; else print "-" }'
}
