-- GET /customers?modificationTimestamp=T&pageSize=100: the first page of the
-- customers changed after T (run.sh sets T before the import, so every
-- customer matches).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

wrk.method = "GET"
wrk.path = common.prefix .. "/customers?modificationTimestamp=" .. common.since ..
           "&pageSize=100"
