-- A 90/10 read/write mix: 90% GET /customers/{id}; 10% writes, alternating
-- POST /activities and PATCH /customers/{id}.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

local writes = 0

function request()
  if math.random(1, 10) > 1 then
    return wrk.format("GET", common.prefix .. "/customers/" .. common.random_id())
  end
  writes = writes + 1
  if writes % 2 == 0 then
    local body = string.format('{"city":"Mix %s"}', common.unique())
    return wrk.format("PATCH", common.prefix .. "/customers/" .. common.random_id(), nil, body)
  end
  local body = string.format(
      '{"customerId":%d,"type":"bench-mix","activityDate":%d,"a_id":"%s",' ..
      '"attributes":{"source":"mix"}}',
      common.random_id(), 1700000000 + math.random(0, 10000000), common.unique())
  return wrk.format("POST", common.prefix .. "/activities", nil, body)
end
