-- wrk script of `make bench`. One wrk thread per client, each with one connection, so that a client's requests go
-- one after another like a person's and request() and response() alternate strictly within a thread.
-- The plan (a Lua file written by tracker/bench/load.py, its path after `--`) gives each client its headers and either
-- paths to cycle through, or the actions whose status it changes.

local threads = {}
local next_client = 0

function setup(thread)
  next_client = next_client + 1
  thread:set("client", next_client)
  table.insert(threads, thread)
end

function init(args)
  local plan = dofile(args[1])
  me = plan.clients[client]
  mode = plan.mode  -- "paths": cycle through paths (method and body fixed); "status": real status changes
  counts = {}
  changes = 0
  position = 0
  if plan.close then
    me.headers["Connection"] = "close"  -- a connection per request: the kernel spreads them over the workers
  end
end

local function form_escape(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function request()
  if mode == "status" then
    -- The next action of this client's own territory, moved between « En cours » and « À venir » at the version this
    -- client last saw: no other client touches these actions, so each request is a valid change.
    current = me.actions[position + 1]
    target = (current.status == "en_cours") and "a_venir" or "en_cours"
    local body = "_csrf_token=" .. form_escape(me.csrf) .. "&status=" .. target .. "&version=" .. current.version
      .. "&comment=" .. form_escape(me.comment)
    me.headers["Content-Type"] = "application/x-www-form-urlencoded"
    return wrk.format("POST", me.prefix .. current.id .. me.suffix, me.headers, body)
  end
  position = position % #me.paths + 1
  return wrk.format(me.method, me.paths[position], me.headers, me.body)
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  if mode == "status" then
    if status == 303 then  -- the form's redirect: the change was written
      current.version = current.version + 1
      current.status = target
      changes = changes + 1
    end
    position = (position + 1) % #me.actions
  end
end

function done(summary, latency, requests)
  local statuses, changed = {}, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do
      statuses[status] = (statuses[status] or 0) + n
    end
    changed = changed + thread:get("changes")
  end
  local parts = {}
  for status, n in pairs(statuses) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, '
      .. '"statuses": {%s}, "changes": %d, "errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, table.concat(parts, ", "), changed, e.connect, e.read, e.write, e.timeout))
end
