-- SPDX-License-Identifier: GPL-2.0-or-later
-- lbsp.lua -- Wireshark / tshark dissector for the LBSP option.
--
-- The LBSP option is a TLV inside an IPv6 Destination Options header
-- (see lbsp(7)); canonical encoding, 40 bytes:
--
--    byte  0     1     2     3     4     5     6      7
--        +-----+-----+-----+-----+-----+-----+------+-----+
--      0 | NH  |  4  | 0x01| 0x02| 0x00| 0x00| TYPE | 32  |  PadN(2), LBSP TLV
--        +-----+-----+-----+-----+-----+-----+------+-----+
--      8 |        seg1: client identity (16 bytes)         |
--     16 |                                                 |
--        +-------------------------------------------------+
--     24 |        seg2: serving server address (16 bytes)  |
--     32 |                                                 |
--        +-------------------------------------------------+
--
-- Wireshark shows the TLV as an "Experimental" (type 0x1e) or unknown
-- option with opaque data.  This post-dissector walks every Destination
-- Options header of the packet (ICMPv6 errors carry a second one inside)
-- and adds an "LBSP" tree with filterable fields:
--
--   lbsp.type  lbsp.length  lbsp.seg1  lbsp.seg2  lbsp.seg2_set
--
-- e.g.  tshark -Y 'lbsp.seg2 == 2001:db8:5::1' -T fields -e lbsp.seg1
--
-- The option type lbspd uses is configurable ("option-type" in
-- lbsp.conf(5)); so is it here: Edit > Preferences > Protocols > LBSP,
-- or "tshark -o lbsp.option_type:31" (decimal: 31 is 0x1f).
--
-- Installed in Wireshark's global Lua plugin folder ("tshark -G folders":
-- "Global Lua Plugins"), it is loaded by Wireshark and tshark at start.
-- Elsewhere: tshark -X lua_script:lbsp.lua.

local lbsp = Proto("lbsp", "LBSP Option (load balancing session persistence)")

local f_type = ProtoField.uint8("lbsp.type", "Option Type", base.HEX)
local f_len = ProtoField.uint8("lbsp.length", "Option Data Length", base.DEC)
local f_seg1 = ProtoField.ipv6("lbsp.seg1", "seg1 (client identity)")
local f_seg2 = ProtoField.ipv6("lbsp.seg2", "seg2 (serving server)")
local f_seg2_set = ProtoField.bool("lbsp.seg2_set", "seg2 filled in")
lbsp.fields = { f_type, f_len, f_seg1, f_seg2, f_seg2_set }

local e_len = ProtoExpert.new("lbsp.bad_length", "LBSP option data is not 32 bytes",
	expert.group.MALFORMED, expert.severity.ERROR)
local e_seg1 = ProtoExpert.new("lbsp.seg1_zero", "LBSP seg1 is all zero",
	expert.group.PROTOCOL, expert.severity.WARN)
local e_twice = ProtoExpert.new("lbsp.duplicate", "Two LBSP options in one header",
	expert.group.MALFORMED, expert.severity.ERROR)
lbsp.experts = { e_len, e_seg1, e_twice }

lbsp.prefs.option_type = Pref.uint("Option type",
	0x1e, "IPv6 option type of the LBSP option, in decimal (lbsp.conf option-type; default 30 = 0x1e)")

local dstopts = Field.new("ipv6.dstopts")

-- At most this many options per header: a header is at most 2048 bytes,
-- and the walk is bounded by bytes as well.
local MAX_OPTIONS = 1024
local DATA_LEN = 32

local function all_zero(range)
	for i = 0, range:len() - 1 do
		if range(i, 1):uint() ~= 0 then
			return false
		end
	end
	return true
end

-- Walk one Destination Options header (range hdr: the whole header,
-- Next Header and Hdr Ext Len included); add a tree per LBSP option.
local function dissect_header(hdr, tree)
	local want = lbsp.prefs.option_type
	local len = hdr:len()
	local off, count, found = 2, 0, 0

	if len < 2 then
		return 0
	end
	-- The header says how long it is; never walk past what was captured.
	local hlen = (hdr(1, 1):uint() + 1) * 8
	if hlen < len then
		len = hlen
	end
	while off < len and count < MAX_OPTIONS do
		count = count + 1
		local otype = hdr(off, 1):uint()
		if otype == 0 then -- Pad1: one byte, no length
			off = off + 1
		else
			if len - off < 2 then
				break
			end
			local olen = hdr(off + 1, 1):uint()
			if len - off - 2 < olen then
				break
			end
			if otype == want then
				local opt = hdr(off, 2 + olen)
				local t = tree:add(lbsp, opt)
				found = found + 1
				t:add(f_type, hdr(off, 1))
				local tl = t:add(f_len, hdr(off + 1, 1))
				if found > 1 then
					t:add_proto_expert_info(e_twice)
				end
				if olen ~= DATA_LEN then
					tl:add_proto_expert_info(e_len)
				else
					local s1 = hdr(off + 2, 16)
					local s2 = hdr(off + 18, 16)
					local i1 = t:add(f_seg1, s1)
					t:add(f_seg2, s2)
					local set = not all_zero(s2)
					t:add(f_seg2_set, set):set_generated()
					if all_zero(s1) then
						i1:add_proto_expert_info(e_seg1)
					end
					t:append_text(", seg1 " .. tostring(s1:ipv6()) ..
						", seg2 " .. (set and tostring(s2:ipv6()) or "unset"))
				end
			end
			off = off + 2 + olen
		end
	end
	return found
end

function lbsp.dissector(tvb, pinfo, tree)
	local headers = { dstopts() }
	local found = 0

	for _, fi in ipairs(headers) do
		local ok, range = pcall(function() return fi.range end)
		if ok and range ~= nil then
			found = found + dissect_header(range, tree)
		end
	end
	if found > 0 then
		pinfo.cols.protocol:append("/LBSP")
	end
end

register_postdissector(lbsp, true)
