-- The soak's request mix for wrk (bench/soak.py fills in PATHS and INTERVAL).
-- With INTERVAL > 0, delay() hands out send times on a fixed schedule read from the monotonic clock
-- (LuaJIT's FFI), so requests leave at the target rate however fast answers come; sends more than
-- 100 ms behind are counted as late and the schedule catches up no further. done() prints one
-- JSON line, "SOAK {...}", with the run's requests, errors and percentiles.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
int clock_gettime(int clock_id, soak_timespec *tp);
]]
local clock = ffi.new("soak_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local paths = {PATHS}
local interval = {INTERVAL}  -- ms between sends in this thread; 0: as fast as answers come
local requests, slot = {}, nil
late = 0

function init(args)
  math.randomseed(7)
  for i, entry in ipairs(paths) do
    requests[i] = wrk.format("GET", entry[1], {["Accept"] = entry[2]})
  end
end

function request()
  return requests[math.random(#requests)]
end

if interval > 0 then
  function delay()
    local now = now_ms()
    if slot == nil then slot = now end
    if slot < now - 100 then  -- behind by more than 100 ms: catch up no further, count it
      late = late + 1
      slot = now - 100
    end
    local wait = slot - now
    slot = slot + interval
    return wait > 0 and wait or 0
  end
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

function done(summary, latency, requests)
  local late_total = 0
  for _, thread in ipairs(threads) do late_total = late_total + (thread:get("late") or 0) end
  local e = summary.errors
  io.write(string.format(
    'SOAK {"requests": %d, "duration_us": %d, "socket_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
    '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "late": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, late_total))
end
