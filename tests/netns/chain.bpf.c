/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * chain.bpf.c -- a stand-in for a firewall or another datapath that
 * shares a tc hook with lbsp, attached after lbsp's program
 * (55-tc-chain.sh): it counts the IPv6 packets it sees, those carrying
 * a Destination Options header apart, and passes them on.  It sees
 * lbsp's packets only if lbsp's program passes them on (TC_ACT_UNSPEC).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* [0]: IPv6 packets, [1]: those with a Destination Options header
 * right after the IPv6 header. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} chain_seen SEC(".maps");

static __always_inline void
seen(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&chain_seen, &k);

	if (v != NULL)
		__sync_fetch_and_add(v, 1);
}

SEC("tc")
int
chain_count(struct __sk_buff *skb)
{
	__u8 nh;

	if (skb->protocol != bpf_htons(ETH_P_IPV6) ||
	    bpf_skb_load_bytes(skb, ETH_HLEN + 6, &nh, 1) < 0)
		return TC_ACT_UNSPEC;
	seen(0);
	if (nh == 60)
		seen(1);
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
