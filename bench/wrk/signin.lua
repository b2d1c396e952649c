-- wrk script for sign-in (figure 9).
-- BENCH_MODE=login: POST /api/login as BENCH_USER with BENCH_PASSWORD, no
-- cookie, so every request is a whole sign-in (password check, new session).
-- BENCH_MODE=point: GET <BENCH_PATH><random id in 1..BENCH_IDS> with the
-- session cookies of BENCH_COOKIES (a file, one signed-in session token a
-- line), taking them in turns request by request.
local mode = os.getenv("BENCH_MODE") or "point"
local path = os.getenv("BENCH_PATH") or "/api/query/point?id="
local ids = tonumber(os.getenv("BENCH_IDS") or "100000")
local cookies = {}

if mode == "point" then
   for line in io.lines(os.getenv("BENCH_COOKIES")) do
      if line ~= "" then cookies[#cookies + 1] = line end
   end
end

function setup(thread)
   thread:set("seed", math.random(1, 1000000))
end

function init(args)
   math.randomseed(seed + os.time())
end

local n = 0
function request()
   if mode == "login" then
      local body = '{"username":"' .. os.getenv("BENCH_USER") .. '","password":"' .. os.getenv("BENCH_PASSWORD") .. '"}'
      return wrk.format("POST", "/api/login", { ["Content-Type"] = "application/json" }, body)
   end
   n = n + 1
   local c = cookies[(n % #cookies) + 1]
   return wrk.format("GET", path .. math.random(1, ids), { ["Cookie"] = "pg_dash_session=" .. c })
end
