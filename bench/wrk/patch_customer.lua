-- PATCH /customers/{id}: changes the city and phone of a random customer.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

function request()
  local body = string.format('{"city":"Bench %s","phone":"+44 %d"}', common.unique(),
                             math.random(100000000, 999999999))
  return wrk.format("PATCH", common.prefix .. "/customers/" .. common.random_id(), nil, body)
end
