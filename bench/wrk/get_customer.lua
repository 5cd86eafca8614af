-- GET /customers/{id} for a random existing customer.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

function request()
  return wrk.format("GET", common.prefix .. "/customers/" .. common.random_id())
end
