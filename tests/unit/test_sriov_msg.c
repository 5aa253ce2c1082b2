/*
 * cmocka: rtnetlink VF messages on byte buffers (sriov/vf_msg.c). The golden
 * requests were written from include/uapi/linux/{netlink,rtnetlink,if_link}.h
 * by hand (little-endian, NLA_F_NESTED on the nests as libmnl sets it), not
 * produced by the code under test; the replies are built here byte by byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "sriov/vf_netlink.h"

#define SEQ 0x01020304u

/* nlmsghdr + ifinfomsg (ifindex 3) + IFLA_VFINFO_LIST { IFLA_VF_INFO { one IFLA_VF_* } } */
static const uint8_t golden_getlink[] = {
	0x28, 0x00, 0x00, 0x00, 0x12, 0x00, 0x01, 0x00, 0x04, 0x03, 0x02, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x1d, 0x00,
	0x01, 0x00, 0x00, 0x00,
};
static const uint8_t golden_mac[] = {
	0x50, 0x00, 0x00, 0x00, 0x13, 0x00, 0x05, 0x00, 0x04, 0x03, 0x02, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x00, 0x16, 0x80,
	0x2c, 0x00, 0x01, 0x80, 0x28, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t golden_vlan[] = {
	0x38, 0x00, 0x00, 0x00, 0x13, 0x00, 0x05, 0x00, 0x04, 0x03, 0x02, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0x00, 0x16, 0x80,
	0x14, 0x00, 0x01, 0x80, 0x10, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x64, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
};
static const uint8_t golden_spoofchk[] = {
	0x34, 0x00, 0x00, 0x00, 0x13, 0x00, 0x05, 0x00, 0x04, 0x03, 0x02, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x16, 0x80,
	0x10, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
};
static const uint8_t golden_trust[] = {
	0x34, 0x00, 0x00, 0x00, 0x13, 0x00, 0x05, 0x00, 0x04, 0x03, 0x02, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x16, 0x80,
	0x10, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00,
};
static const uint8_t golden_rate[] = {
	0x38, 0x00, 0x00, 0x00, 0x13, 0x00, 0x05, 0x00, 0x04, 0x03, 0x02, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0x00, 0x16, 0x80,
	0x14, 0x00, 0x01, 0x80, 0x10, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xf4, 0x01, 0x00, 0x00,
};
static const uint8_t golden_link_state[] = {
	0x34, 0x00, 0x00, 0x00, 0x13, 0x00, 0x05, 0x00, 0x04, 0x03, 0x02, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x16, 0x80,
	0x10, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x02, 0x00, 0x00, 0x00,
};
static const uint8_t golden_up[] = {
	0x20, 0x00, 0x00, 0x00, 0x13, 0x00, 0x05, 0x00, 0x04, 0x03, 0x02, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
};
/* RTM_SETLINK ifindex 3 + IFLA_MASTER (10) = 7; "nomaster" is the same with 0. */
static const uint8_t golden_master[] = {
	0x28, 0x00, 0x00, 0x00, 0x13, 0x00, 0x05, 0x00, 0x04, 0x03, 0x02, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x0a, 0x00,
	0x07, 0x00, 0x00, 0x00,
};

static void check_set(const struct sriov_vf_set *s, const uint8_t *want, size_t len)
{
	uint8_t buf[256];

	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(sriov_msg_set_vf(buf, sizeof(buf), SEQ, 3, s), len);
	assert_memory_equal(buf, want, len);
	/* Too small a buffer: nothing, not a partial message. */
	assert_int_equal(sriov_msg_set_vf(buf, len - 1, SEQ, 3, s), 0);
}

static void golden_requests(void **state)
{
	struct sriov_vf_set s = { .vf = 1, .mac = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 } };
	uint8_t buf[256];

	(void)state;
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(sriov_msg_getlink(buf, sizeof(buf), SEQ, 3), sizeof(golden_getlink));
	assert_memory_equal(buf, golden_getlink, sizeof(golden_getlink));
	s.what = SRIOV_SET_MAC;
	check_set(&s, golden_mac, sizeof(golden_mac));
	s = (struct sriov_vf_set){ .what = SRIOV_SET_VLAN, .vf = 1, .vlan = 100, .qos = 3 };
	check_set(&s, golden_vlan, sizeof(golden_vlan));
	s = (struct sriov_vf_set){ .what = SRIOV_SET_SPOOFCHK, .vf = 1, .on = false };
	check_set(&s, golden_spoofchk, sizeof(golden_spoofchk));
	s = (struct sriov_vf_set){ .what = SRIOV_SET_TRUST, .vf = 1, .on = true };
	check_set(&s, golden_trust, sizeof(golden_trust));
	s = (struct sriov_vf_set){ .what = SRIOV_SET_RATE, .vf = 1, .min_rate = 0, .max_rate = 500 };
	check_set(&s, golden_rate, sizeof(golden_rate));
	s = (struct sriov_vf_set){ .what = SRIOV_SET_LINK_STATE, .vf = 1, .link_state = 2 };
	check_set(&s, golden_link_state, sizeof(golden_link_state));
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(sriov_msg_set_up(buf, sizeof(buf), SEQ, 3, true), sizeof(golden_up));
	assert_memory_equal(buf, golden_up, sizeof(golden_up));
	assert_string_equal(sriov_setting_name(SRIOV_SET_LINK_STATE), "link state");
}

static void set_master(void **state)
{
	uint8_t buf[256], nomaster[sizeof(golden_master)];

	(void)state;
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(sriov_msg_set_master(buf, sizeof(buf), SEQ, 3, 7), sizeof(golden_master));
	assert_memory_equal(buf, golden_master, sizeof(golden_master));
	memcpy(nomaster, golden_master, sizeof(nomaster));
	nomaster[sizeof(nomaster) - 4] = 0;
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(sriov_msg_set_master(buf, sizeof(buf), SEQ, 3, 0), sizeof(nomaster));
	assert_memory_equal(buf, nomaster, sizeof(nomaster));
	/* Too small a buffer, for the attribute or for the header: nothing. */
	assert_int_equal(sriov_msg_set_master(buf, sizeof(golden_master) - 1, SEQ, 3, 7), 0);
	assert_int_equal(sriov_msg_set_master(buf, 16, SEQ, 3, 7), 0);
	/* No ifindex is negative. */
	assert_int_equal(sriov_msg_set_master(buf, sizeof(buf), SEQ, 3, -1), 0);
}

/* A reply writer: little-endian fields, attributes padded to 4. */
struct w {
	uint8_t b[1024];
	size_t n;
};

static void put(struct w *w, const void *p, size_t len)
{
	memcpy(w->b + w->n, p, len);
	w->n += len;
}

static void put32(struct w *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	put(w, b, 4);
}

static void put16(struct w *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	put(w, b, 2);
}

static void patch16(struct w *w, size_t at, uint16_t v)
{
	w->b[at] = (uint8_t)v;
	w->b[at + 1] = (uint8_t)(v >> 8);
}

static size_t attr_start(struct w *w, uint16_t type)
{
	size_t at = w->n;

	put16(w, 0);
	put16(w, type);
	return at;
}

static void attr_end(struct w *w, size_t at)
{
	patch16(w, at, (uint16_t)(w->n - at));
	while (w->n % 4)
		w->b[w->n++] = 0;
}

static void attr_u32s(struct w *w, uint16_t type, const uint32_t *v, unsigned n)
{
	size_t at = attr_start(w, type);

	while (n--)
		put32(w, *v++);
	attr_end(w, at);
}

static void vf_info(struct w *w, uint32_t vf, uint8_t last_octet)
{
	size_t info = attr_start(w, 1 /* IFLA_VF_INFO */), at;
	uint8_t mac[32] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, last_octet };

	at = attr_start(w, 1 /* IFLA_VF_MAC */);
	put32(w, vf);
	put(w, mac, sizeof(mac));
	attr_end(w, at);
	attr_u32s(w, 2 /* IFLA_VF_VLAN */, (uint32_t[]){ vf, 100, 3 }, 3);
	attr_u32s(w, 3 /* IFLA_VF_TX_RATE */, (uint32_t[]){ vf, 500 }, 2);
	attr_u32s(w, 4 /* IFLA_VF_SPOOFCHK */, (uint32_t[]){ vf, 1 }, 2);
	attr_u32s(w, 5 /* IFLA_VF_LINK_STATE */, (uint32_t[]){ vf, 0 }, 2);
	attr_u32s(w, 6 /* IFLA_VF_RATE */, (uint32_t[]){ vf, 0, 500 }, 3);
	attr_u32s(w, 9 /* IFLA_VF_TRUST */, (uint32_t[]){ vf, UINT32_MAX }, 2);
	attr_end(w, info);
}

/* RTM_NEWLINK for enp1s0 (ifindex 3, up) with two VFs, 0 and 1. */
static void newlink(struct w *w, uint32_t seq)
{
	size_t list, at;

	w->n = 0;
	put32(w, 0);
	put16(w, 16 /* RTM_NEWLINK */);
	put16(w, 0);
	put32(w, seq);
	put32(w, 0);
	put32(w, 0);		/* family, pad, type */
	put32(w, 3);		/* ifi_index */
	put32(w, 1);		/* ifi_flags: IFF_UP */
	put32(w, 0);
	at = attr_start(w, 3 /* IFLA_IFNAME */);
	put(w, "enp1s0", 7);
	attr_end(w, at);
	attr_u32s(w, 21 /* IFLA_NUM_VF */, (uint32_t[]){ 2 }, 1);
	list = attr_start(w, 22 /* IFLA_VFINFO_LIST */);
	vf_info(w, 0, 0x10);
	vf_info(w, 1, 0x11);
	attr_end(w, list);
	w->b[0] = (uint8_t)w->n;
	w->b[1] = (uint8_t)(w->n >> 8);
}

static void parses_vfinfo_list(void **state)
{
	static const uint8_t mac1[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x11 };
	struct sriov_link l;
	const struct sriov_vf_info *v;
	struct w w;

	(void)state;
	newlink(&w, SEQ);
	assert_int_equal(sriov_msg_parse_link(w.b, w.n, SEQ, &l), 0);
	assert_int_equal(l.ifindex, 3);
	assert_int_equal(l.flags & 1, 1);
	assert_string_equal(l.ifname, "enp1s0");
	assert_int_equal(l.num_vf, 2);
	assert_int_equal(l.nr_vfs, 2);
	v = sriov_link_vf(&l, 1);
	assert_non_null(v);
	assert_true(v->has_mac);
	assert_memory_equal(v->mac, mac1, 6);
	assert_int_equal(v->vlan, 100);
	assert_int_equal(v->qos, 3);
	assert_int_equal(v->spoofchk, 1);
	assert_int_equal(v->trust, -1);		/* ~0: the driver does not say */
	assert_int_equal(v->link_state, 0);
	assert_int_equal(v->min_rate, 0);
	assert_int_equal(v->max_rate, 500);
	assert_null(sriov_link_vf(&l, 2));
}

static void refuses_truncated_and_hostile(void **state)
{
	struct sriov_link l;
	struct w w;
	size_t cut;

	(void)state;
	newlink(&w, SEQ);
	/* Every truncation of the buffer is refused, never read past. */
	for (cut = 0; cut < w.n; cut++)
		if (sriov_msg_parse_link(w.b, cut, SEQ, &l) != -EBADMSG)
			fail_msg("a reply cut to %zu of %zu bytes was accepted", cut, w.n);
	/* The header says shorter than the attributes: the last VF overruns. */
	newlink(&w, SEQ);
	w.b[0] = (uint8_t)(w.n - 8);
	assert_int_equal(sriov_msg_parse_link(w.b, w.n - 8, SEQ, &l), -EBADMSG);
	/* Another request's answer. */
	newlink(&w, SEQ + 1);
	assert_int_equal(sriov_msg_parse_link(w.b, w.n, SEQ, &l), -EBADMSG);
	/* A VF index past what sluice tracks, and VF structs that disagree on the index. */
	newlink(&w, SEQ);
	w.b[w.n - 8] = 200;		/* VF 1's IFLA_VF_TRUST .vf */
	assert_int_equal(sriov_msg_parse_link(w.b, w.n, SEQ, &l), -EBADMSG);
	w.b[w.n - 8] = 0;		/* VF 0 in VF 1's entry */
	assert_int_equal(sriov_msg_parse_link(w.b, w.n, SEQ, &l), -EBADMSG);
	/* IFLA_IFNAME without its NUL. */
	newlink(&w, SEQ);
	w.b[32 + 4 + 6] = 'x';
	assert_int_equal(sriov_msg_parse_link(w.b, w.n, SEQ, &l), -EBADMSG);
}

static void refuses_short_vf_attr(void **state)
{
	struct sriov_link l;
	struct w w;
	size_t list, info, at;

	(void)state;
	newlink(&w, SEQ);
	w.n = 32 + 12 + 8;	/* keep header, IFLA_IFNAME, IFLA_NUM_VF */
	list = attr_start(&w, 22);
	info = attr_start(&w, 1);
	at = attr_start(&w, 1 /* IFLA_VF_MAC, 8 bytes instead of 36 */);
	put32(&w, 0);
	put32(&w, 0);
	attr_end(&w, at);
	attr_end(&w, info);
	attr_end(&w, list);
	w.b[0] = (uint8_t)w.n;
	assert_int_equal(sriov_msg_parse_link(w.b, w.n, SEQ, &l), -EBADMSG);
}

static void error_and_ack(struct w *w, int32_t error, uint32_t seq, size_t len)
{
	w->n = 0;
	put32(w, (uint32_t)len);
	put16(w, 2 /* NLMSG_ERROR */);
	put16(w, 0);
	put32(w, seq);
	put32(w, 0);
	put32(w, (uint32_t)error);
	while (w->n < len)
		w->b[w->n++] = 0;	/* the echoed request header */
}

static void acks_and_errors(void **state)
{
	struct sriov_link l;
	struct w w;

	(void)state;
	error_and_ack(&w, 0, SEQ, 36);
	assert_int_equal(sriov_msg_parse_ack(w.b, w.n, SEQ), 0);
	error_and_ack(&w, -EOPNOTSUPP, SEQ, 36);
	assert_int_equal(sriov_msg_parse_ack(w.b, w.n, SEQ), -EOPNOTSUPP);
	assert_int_equal(sriov_msg_parse_link(w.b, w.n, SEQ, &l), -EOPNOTSUPP);
	error_and_ack(&w, 0, SEQ, 36);
	assert_int_equal(sriov_msg_parse_link(w.b, w.n, SEQ, &l), -EBADMSG);
	error_and_ack(&w, -EINVAL, SEQ + 1, 36);
	assert_int_equal(sriov_msg_parse_ack(w.b, w.n, SEQ), -EBADMSG);
	error_and_ack(&w, 5, SEQ, 36);		/* a positive error is no errno */
	assert_int_equal(sriov_msg_parse_ack(w.b, w.n, SEQ), -EBADMSG);
	error_and_ack(&w, -EINVAL, SEQ, 18);	/* nlmsgerr cut short */
	assert_int_equal(sriov_msg_parse_ack(w.b, w.n, SEQ), -EBADMSG);
	newlink(&w, SEQ);
	assert_int_equal(sriov_msg_parse_ack(w.b, w.n, SEQ), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(golden_requests),
		cmocka_unit_test(set_master),
		cmocka_unit_test(parses_vfinfo_list),
		cmocka_unit_test(refuses_truncated_and_hostile),
		cmocka_unit_test(refuses_short_vf_attr),
		cmocka_unit_test(acks_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
