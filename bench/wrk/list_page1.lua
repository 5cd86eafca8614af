-- GET /customers?page=1&pageSize=100: the first page of the customer list.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

wrk.method = "GET"
wrk.path = common.prefix .. "/customers?page=1&pageSize=100"
