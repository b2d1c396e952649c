-- wrk script for session_state: each request picks one of the sessions in
-- BENCH_COOKIES (a file, one pg_dash_session value a line) at random, so
-- concurrent requests seldom touch the same session row.
-- BENCH_METHOD=PATCH sends a JSON merge patch to /api/state;
-- BENCH_METHOD=GET reads /api/state.
local method = os.getenv("BENCH_METHOD") or "GET"
local file = os.getenv("BENCH_COOKIES")
local cookies = {}

for line in io.lines(file) do
   if #line > 0 then cookies[#cookies + 1] = line end
end

function setup(thread)
   thread:set("seed", math.random(1, 1000000))
end

function init(args)
   math.randomseed(seed + os.time())
end

local n = 0
function request()
   n = n + 1
   local c = cookies[math.random(1, #cookies)]
   local headers = { ["Cookie"] = "pg_dash_session=" .. c }
   if method == "PATCH" then
      headers["Content-Type"] = "application/json"
      local body = '{"region":"North","counter":' .. n .. ',"filters":{"product":"p' .. (n % 50) .. '"}}'
      return wrk.format("PATCH", "/api/state", headers, body)
   end
   return wrk.format("GET", "/api/state", headers)
end
