/**
 * The Lua side of the sandbox Redis 7.0 gives scripts: the 5.1 library set,
 * read-only globals whose unknown names raise errors, Redis's own pcall, and the number
 * rules of 5.1 (see float-literals.ts). It runs once per Lua state and returns `new_env`,
 * which builds each run's globals table, so nothing one script writes is seen by the next.
 *
 * `...` is the table of JavaScript functions from scripts.ts.
 */
export const PRELUDE = `
local api = ...
local pairs, next, type, error, tostring, select = pairs, next, type, error, tostring, select
local setmetatable, rawget, rawset, pcall, load = setmetatable, rawget, rawset, pcall, load
local floor, fmod, exp, log = math.floor, math.fmod, math.exp, math.log
local tointeger = math.tointeger
local pack, unpack53 = table.pack, table.unpack
local sub = string.sub

-- A metatable with __protected marks a table a script may not change, rawset included
-- (a mark on the table, not a registry of tables: fengari has no weak tables to forget runs).
local function readonly(real)
  return setmetatable({}, {
    __protected = true,
    __index = real,
    __newindex = api.readonly_newindex,
    __pairs = function() return next, real, nil end,
    __metatable = false,
  })
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

local function float(n)
  if type(n) == 'number' then return n + 0.0 end
  return n
end

local strings = copy(string)
strings.format = api.format
strings.pack, strings.packsize, strings.unpack = nil, nil, nil
local string_meta = getmetatable('')
string_meta.__index = readonly(strings)
string_meta.__metatable = false

local maths = copy(math)
maths.floor, maths.ceil, maths.random = api.floor, api.ceil, api.random
maths.pow = function(x, y) return x ^ y end
maths.log10 = function(x) return log(x, 10) end
maths.ldexp = function(m, e) return m * 2.0 ^ e end
maths.frexp = function(x)
  if x == 0 or x ~= x or x == math.huge or x == -math.huge then return x, 0.0 end
  local e = floor(log(math.abs(x), 2)) + 1.0
  local m = x / 2.0 ^ e
  if math.abs(m) >= 1 then m, e = m / 2, e + 1 end
  return m, e
end
maths.cosh = function(x) return (exp(x) + exp(-x)) / 2 end
maths.sinh = function(x) return (exp(x) - exp(-x)) / 2 end
maths.tanh = function(x) return maths.sinh(x) / maths.cosh(x) end
maths.mod = fmod
maths.type, maths.tointeger, maths.ult, maths.maxinteger, maths.mininteger = nil, nil, nil, nil, nil

local tables = copy(table)
tables.pack, tables.unpack, tables.move = nil, nil, nil
tables.getn = function(t) return float(#t) end
tables.maxn = function(t)
  local max = 0.0
  for k in pairs(t) do
    if type(k) == 'number' and k > max then max = k end
  end
  return max
end
tables.foreach = function(t, f)
  for k, v in pairs(t) do
    local r = f(k, v)
    if r ~= nil then return r end
  end
end
tables.foreachi = function(t, f)
  for i = 1, #t do
    local r = f(float(i), t[i])
    if r ~= nil then return r end
  end
end
tables.setn = function() error("'setn' is obsolete", 2) end
-- LuaBitOp: 32-bit signed results.
local function tobit(x)
  x = floor(x + 0.5) % 4294967296.0
  if x >= 2147483648.0 then x = x - 4294967296.0 end
  return tointeger(x)
end
local function fold(op)
  return function(x, ...)
    local r = tobit(x)
    for i = 1, select('#', ...) do r = op(r, tobit((select(i, ...)))) end
    return float(r)
  end
end
local bits = {
  tobit = function(x) return float(tobit(x)) end,
  bnot = function(x) return float(~tobit(x)) end,
  band = fold(function(a, b) return a & b end),
  bor = fold(function(a, b) return a | b end),
  bxor = fold(function(a, b) return a ~ b end),
  lshift = function(x, n) return float(tobit(tobit(x) * 2.0 ^ (tobit(n) % 32))) end,
  rshift = function(x, n)
    local u = tobit(x) % 4294967296.0
    return float(tobit(floor(u / 2.0 ^ (tobit(n) % 32))))
  end,
  arshift = function(x, n) return float(tobit(floor(tobit(x) / 2.0 ^ (tobit(n) % 32)))) end,
  tohex = function(x, n)
    n = n and tointeger(n - fmod(n, 1)) or 8
    local upper = n < 0
    if upper then n = -n end
    local hex = api.format(upper and '%08X' or '%08x', tobit(x) % 4294967296.0)
    return sub(hex, 9 - n)
  end,
}
bits.rol = function(x, n)
  n = tobit(n) % 32
  return bits.bor(bits.lshift(x, n), bits.rshift(x, 32 - n))
end
bits.ror = function(x, n)
  n = tobit(n) % 32
  return bits.bor(bits.rshift(x, n), bits.lshift(x, 32 - n))
end
bits.bswap = function(x)
  local v = tobit(x) % 4294967296.0
  local b0, b1, b2, b3 = v % 256, floor(v / 256) % 256, floor(v / 65536) % 256, floor(v / 16777216)
  return bits.tobit(((b0 * 256 + b1) * 256 + b2) * 256 + b3)
end

local redis = {
  call = api.call,
  pcall = api.pcall,
  sha1hex = api.sha1hex,
  error_reply = api.error_reply,
  status_reply = api.status_reply,
  log = api.log,
  setresp = api.setresp,
  LOG_DEBUG = 0.0, LOG_VERBOSE = 1.0, LOG_NOTICE = 2.0, LOG_WARNING = 3.0,
  REPL_NONE = 0.0, REPL_AOF = 1.0, REPL_SLAVE = 2.0, REPL_REPLICA = 2.0, REPL_ALL = 3.0,
  set_repl = function() end,
  replicate_commands = function() return true end,
  breakpoint = function() return false end,
  debug = function() end,
  REDIS_VERSION = '7.0.15',
  REDIS_VERSION_NUM = 458767.0,
}

local current_env

-- Redis 7's pcall hands back the message of an error table ({err = ...}) as a plain string.
local function redis_pcall(f, ...)
  local result = pack(pcall(f, ...))
  if not result[1] and type(result[2]) == 'table' then
    local message = result[2].err
    if type(message) == 'string' or type(message) == 'number' then return false, message end
  end
  return unpack53(result, 1, result.n)
end

local base = {
  assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs, pcall = redis_pcall,
  rawequal = rawequal, rawget = rawget, rawset = api.protected_rawset, setmetatable = setmetatable,
  getmetatable = getmetatable, tostring = tostring, type = type, xpcall = xpcall,
  collectgarbage = collectgarbage,
  gcinfo = function() return floor(collectgarbage('count')) + 0.0 end,
  tonumber = api.tonumber,
  select = select,
  unpack = unpack53,
  loadstring = function(source, name) return load(source, name, 't', current_env) end,
  load = function(chunk, name) return load(chunk, name, 't', current_env) end,
  _VERSION = 'Lua 5.1',
  string = readonly(strings), math = readonly(maths), table = readonly(tables),
  coroutine = readonly(coroutine), bit = readonly(bits), redis = readonly(redis),
  cjson = readonly({ encode = api.cjson_encode, decode = api.cjson_decode, null = api.cjson_null }),
}

-- JavaScript metamethods, so an error's position is the script's line (Redis's are C functions).
local env_meta = {
  __protected = true,
  __index = api.global_index(base),
  __newindex = api.readonly_newindex,
  __metatable = false,
}

local new_env = function(keys, argv)
  local env = setmetatable({ KEYS = keys, ARGV = argv }, env_meta)
  rawset(env, '_G', env)
  current_env = env
  return env
end

-- Redis's __redis__err__handler, as it is: the error as a table, with where it happened.
local dbg = debug
local error_handler = function(err)
  local i = dbg.getinfo(2, 'nSl')
  -- fengari marks JavaScript functions 'J' where C Lua says 'C'.
  if i and (i.what == 'C' or i.what == 'J') then i = dbg.getinfo(3, 'nSl') end
  if type(err) ~= 'table' then err = { err = 'ERR ' .. tostring(err) } end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end

return new_env, error_handler
`;
