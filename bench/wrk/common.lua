-- Shared part of the cmfd wrk scenarios, loaded by each scenario script.
--
-- Parameters come from the environment (bench/run.sh sets them):
--   CMFD_BENCH_KEY        API key sent as X-API-Key
--   CMFD_BENCH_MAX_ID     highest customer id that exists; ids 1..MAX_ID are all present
--   CMFD_BENCH_SEGMENTS   number of segments (ids 1..SEGMENTS)
--   CMFD_BENCH_DEEP_PAGE  page number of the deep-page scenario
--   CMFD_BENCH_SINCE      modificationTimestamp of the filtered-list scenario
--   CMFD_BENCH_NONCE      text that makes a_id values unique across runs
--   CMFD_BENCH_SEED       random seed (default 1); each wrk thread adds its number
--
-- done() prints one line that run.sh parses:
--   BENCH_RESULT requests=N duration_us=N non2xx=N socket_errors=N p50_us=N p99_us=N

local common = {}

common.prefix = "/webservice/cmf"
common.max_id = tonumber(os.getenv("CMFD_BENCH_MAX_ID") or "1000")
common.segments = tonumber(os.getenv("CMFD_BENCH_SEGMENTS") or "50")
common.deep_page = tonumber(os.getenv("CMFD_BENCH_DEEP_PAGE") or "10")
common.since = tonumber(os.getenv("CMFD_BENCH_SINCE") or "0")
common.nonce = os.getenv("CMFD_BENCH_NONCE") or "0"
local seed = tonumber(os.getenv("CMFD_BENCH_SEED") or "1")

wrk.headers["X-API-Key"] = os.getenv("CMFD_BENCH_KEY") or ""
wrk.headers["Content-Type"] = "application/json"

-- A random existing customer id.
function common.random_id()
  return math.random(1, common.max_id)
end

-- A number unique within this run across all wrk threads: thread number and a
-- per-thread counter.
local counter = 0
function common.unique()
  counter = counter + 1
  return string.format("%s-%d-%d", common.nonce, thread_number or 0, counter)
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  math.randomseed(seed * 1000 + (thread_number or 0))
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
      "BENCH_RESULT requests=%d duration_us=%d non2xx=%d socket_errors=%d p50_us=%d p99_us=%d\n",
      summary.requests, summary.duration, errors.status,
      errors.connect + errors.read + errors.write + errors.timeout,
      latency:percentile(50), latency:percentile(99)))
end

return common
