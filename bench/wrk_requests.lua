-- wrk script of bench/suite.py: walk a pre-generated list of requests.
--
--   wrk -t1 -c64 -d10s -s bench/wrk_requests.lua http://127.0.0.1:8931 -- FILE NONCE LIMIT
--
-- FILE has one request per line: METHOD <tab> PATH [<tab> AUTHORIZATION [<tab> BODY]].
-- Lines are sent in order and reused round-robin. NONCE, unless "-", makes every query
-- string distinct: "&_=<NONCE>-<n>" is appended to each path (the browser cache-buster,
-- the one parameter the API documents as ignored; any other unknown parameter is a 400),
-- so no URL-keyed cache can answer. LIMIT > 0 stops after LIMIT requests (a
-- list of one-use visit tokens, or a fixed-size run); 0 runs for wrk's -d duration. At the
-- limit the thread prints "WRKDONE" and stops; wrk itself waits out -d unless interrupted,
-- so suite.py sends it SIGINT on that line, and the duration reported is the thread's own.
-- done() prints one line "WRKJSON {...}" with the numbers suite.py reads.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long sec; long usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]])
local tv = ffi.new("bench_timeval")

local function now_us()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.sec) * 1000000 + tonumber(tv.usec)
end

local requests = {}
local lines = {}
local nonce = nil
local limit = 0
local sent = 0
local spare = nil
started_us = 0 -- globals: read by done() through thread:get()
finished_us = 0

function init(args)
  local file, nonce_arg, limit_arg = args[1], args[2], args[3]
  nonce = (nonce_arg ~= nil and nonce_arg ~= "-") and nonce_arg or nil
  limit = tonumber(limit_arg or "0")
  for line in io.lines(file) do
    local method, path, auth, body = line:match("^([^\t]*)\t([^\t]*)\t?([^\t]*)\t?(.*)$")
    local headers = {}
    if auth ~= nil and auth ~= "" then
      headers["Authorization"] = auth
    end
    if body ~= nil and body ~= "" then
      headers["Content-Type"] = "application/vnd.api+json"
    else
      body = nil
    end
    lines[#lines + 1] = {method = method, path = path, headers = headers, body = body}
    if nonce == nil then
      requests[#requests + 1] = wrk.format(method, path, headers, body)
    end
  end
  spare = wrk.format("GET", "/healthz")
end

function request()
  sent = sent + 1
  if sent == 1 then
    started_us = now_us()
  end
  if limit > 0 and sent > limit then
    -- The list is used up: stop; the request returned now is never counted.
    if finished_us == 0 then
      finished_us = now_us()
      io.write("WRKDONE\n")
      io.flush()
      wrk.thread:stop()
    end
    return spare
  end
  local i = (sent - 1) % #lines + 1
  if nonce == nil then
    return requests[i]
  end
  local line = lines[i]
  local sep = line.path:find("?", 1, true) and "&" or "?"
  return wrk.format(line.method, line.path .. sep .. "_=" .. nonce .. "-" .. sent,
                    line.headers, line.body)
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local e = summary.errors
  local duration = summary.duration
  local thread = threads[1]
  if #threads == 1 and thread:get("finished_us") > 0 then
    duration = thread:get("finished_us") - thread:get("started_us")
  end
  io.write(string.format(
    'WRKJSON {"duration_us":%d,"requests":%d,"bytes":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    duration, summary.requests, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
