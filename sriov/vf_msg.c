/* sluice: rtnetlink VF messages, built and parsed on byte buffers (pure; see vf_netlink.h). */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "sriov/vf_netlink.h"

const char *sriov_setting_name(enum sriov_setting s)
{
	static const char *const names[] = {
		[SRIOV_SET_MAC] = "mac", [SRIOV_SET_VLAN] = "vlan", [SRIOV_SET_SPOOFCHK] = "spoofchk",
		[SRIOV_SET_TRUST] = "trust", [SRIOV_SET_RATE] = "rate",
		[SRIOV_SET_LINK_STATE] = "link state",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static struct nlmsghdr *put_link_header(void *buf, size_t len, uint16_t type, uint16_t flags,
					uint32_t seq, int ifindex)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*ifi)))
		return NULL;
	memset(buf, 0, MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*ifi)));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nlh;
}

size_t sriov_msg_getlink(void *buf, size_t len, uint32_t seq, int ifindex)
{
	struct nlmsghdr *nlh = put_link_header(buf, len, RTM_GETLINK, NLM_F_REQUEST, seq, ifindex);

	if (!nlh || !mnl_attr_put_u32_check(nlh, len, IFLA_EXT_MASK, RTEXT_FILTER_VF))
		return 0;
	return nlh->nlmsg_len;
}

/* The one IFLA_VF_* attribute of @s: its type, payload and size into the caller's union. */
static int vf_attr(const struct sriov_vf_set *s, uint16_t *type, void *p, size_t *size)
{
	uint32_t *u = p;

	switch (s->what) {
	case SRIOV_SET_MAC: {
		struct ifla_vf_mac m = { .vf = s->vf };

		memcpy(m.mac, s->mac, 6);
		memcpy(p, &m, sizeof(m));
		*type = IFLA_VF_MAC, *size = sizeof(m);
		return 0;
	}
	case SRIOV_SET_VLAN:
		u[0] = s->vf, u[1] = s->vlan, u[2] = s->qos;
		*type = IFLA_VF_VLAN, *size = sizeof(struct ifla_vf_vlan);
		return 0;
	case SRIOV_SET_SPOOFCHK:
	case SRIOV_SET_TRUST:
		u[0] = s->vf, u[1] = s->on;
		*type = s->what == SRIOV_SET_TRUST ? IFLA_VF_TRUST : IFLA_VF_SPOOFCHK;
		*size = sizeof(struct ifla_vf_trust);
		return 0;
	case SRIOV_SET_RATE:
		u[0] = s->vf, u[1] = s->min_rate, u[2] = s->max_rate;
		*type = IFLA_VF_RATE, *size = sizeof(struct ifla_vf_rate);
		return 0;
	case SRIOV_SET_LINK_STATE:
		u[0] = s->vf, u[1] = s->link_state;
		*type = IFLA_VF_LINK_STATE, *size = sizeof(struct ifla_vf_link_state);
		return 0;
	}
	return -EINVAL;
}

size_t sriov_msg_set_vf(void *buf, size_t len, uint32_t seq, int ifindex,
			const struct sriov_vf_set *s)
{
	union { struct ifla_vf_mac mac; uint32_t u[3]; } payload;
	struct nlattr *list, *info;
	struct nlmsghdr *nlh;
	uint16_t type;
	size_t size;

	memset(&payload, 0, sizeof(payload));
	if (vf_attr(s, &type, &payload, &size))
		return 0;
	nlh = put_link_header(buf, len, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, seq, ifindex);
	if (!nlh || !(list = mnl_attr_nest_start_check(nlh, len, IFLA_VFINFO_LIST)) ||
	    !(info = mnl_attr_nest_start_check(nlh, len, IFLA_VF_INFO)) ||
	    !mnl_attr_put_check(nlh, len, type, size, &payload))
		return 0;
	mnl_attr_nest_end(nlh, info);
	mnl_attr_nest_end(nlh, list);
	return nlh->nlmsg_len;
}

size_t sriov_msg_set_up(void *buf, size_t len, uint32_t seq, int ifindex, bool up)
{
	struct nlmsghdr *nlh = put_link_header(buf, len, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK,
					       seq, ifindex);
	struct ifinfomsg *ifi;

	if (!nlh)
		return 0;
	ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_flags = up ? IFF_UP : 0;
	ifi->ifi_change = IFF_UP;
	return nlh->nlmsg_len;
}

/* IFLA_MASTER: a bridge's ifindex enslaves, 0 leaves (net/core/rtnetlink.c do_set_master). */
size_t sriov_msg_set_master(void *buf, size_t len, uint32_t seq, int ifindex, int master)
{
	struct nlmsghdr *nlh = put_link_header(buf, len, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK,
					       seq, ifindex);

	if (master < 0 || !nlh || !mnl_attr_put_u32_check(nlh, len, IFLA_MASTER, (uint32_t)master))
		return 0;
	return nlh->nlmsg_len;
}

/* One message of @len bytes that is whole, of our @seq. NULL when not. */
static const struct nlmsghdr *one_message(const void *buf, size_t len, uint32_t seq)
{
	const struct nlmsghdr *nlh = buf;

	if (len < sizeof(*nlh) || !mnl_nlmsg_ok(nlh, (int)len) || nlh->nlmsg_seq != seq)
		return NULL;
	return nlh;
}

/* NLMSG_ERROR: its error (0 for an ack), or -EBADMSG when truncated. */
static int error_of(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e) || e->error > 0)
		return -EBADMSG;
	return e->error;
}

int sriov_msg_parse_ack(const void *buf, size_t len, uint32_t seq)
{
	const struct nlmsghdr *nlh = one_message(buf, len, seq);

	if (!nlh || nlh->nlmsg_type != NLMSG_ERROR)
		return -EBADMSG;
	return error_of(nlh);
}

/* A 32-bit field that the kernel sets to ~0 when the driver does not report it. */
static int reported(uint32_t v)
{
	return v == UINT32_MAX ? -1 : (int)(v & 0x7fffffff);
}

/*
 * Walk the attributes in [start, start + len) and insist that they fill it:
 * mnl_attr_parse() stops quietly at an attribute that overruns its
 * container, and a truncated reply must not pass for a shorter one.
 */
static int parse_exact(const void *start, size_t len, mnl_attr_cb_t cb, void *data)
{
	const struct nlattr *a = start;
	int left = (int)len;

	while (left > 0) {
		if (!mnl_attr_ok(a, left) || cb(a, data) != MNL_CB_OK)
			return -EBADMSG;
		left -= (int)MNL_ALIGN(a->nla_len);
		a = mnl_attr_next(a);
	}
	return 0;
}

static int parse_nested(const struct nlattr *nest, mnl_attr_cb_t cb, void *data)
{
	return parse_exact(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest), cb, data)
		       ? MNL_CB_ERROR : MNL_CB_OK;
}

static int vf_field_cb(const struct nlattr *a, void *data)
{
	static const size_t min_len[IFLA_VF_MAX + 1] = {
		[IFLA_VF_MAC] = sizeof(struct ifla_vf_mac), [IFLA_VF_VLAN] = sizeof(struct ifla_vf_vlan),
		[IFLA_VF_SPOOFCHK] = sizeof(struct ifla_vf_spoofchk),
		[IFLA_VF_LINK_STATE] = sizeof(struct ifla_vf_link_state),
		[IFLA_VF_RATE] = sizeof(struct ifla_vf_rate), [IFLA_VF_TRUST] = sizeof(struct ifla_vf_trust),
	};
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type > IFLA_VF_MAX)
		return MNL_CB_OK;	/* newer than this sluice: ignore */
	if (min_len[type] && mnl_attr_get_payload_len(a) < min_len[type])
		return MNL_CB_ERROR;
	tb[type] = a;
	return MNL_CB_OK;
}

/* Every IFLA_VF_* struct starts with the VF index; they must agree. */
static int vf_index_of(const struct nlattr **tb, unsigned *vf)
{
	bool have = false;
	unsigned t;

	for (t = 1; t <= IFLA_VF_MAX; t++) {
		uint32_t v;

		if (!tb[t] || t == IFLA_VF_STATS || t == IFLA_VF_VLAN_LIST || t == IFLA_VF_BROADCAST ||
		    mnl_attr_get_payload_len(tb[t]) < sizeof(v))
			continue;
		memcpy(&v, mnl_attr_get_payload(tb[t]), sizeof(v));
		if ((have && v != *vf) || v >= SRIOV_MAX_VFS)
			return -EBADMSG;
		*vf = v, have = true;
	}
	return have ? 0 : -EBADMSG;
}

static void fill_vf(const struct nlattr **tb, struct sriov_vf_info *vi)
{
	uint32_t u[3];

	if (tb[IFLA_VF_MAC]) {
		memcpy(vi->mac, ((const struct ifla_vf_mac *)mnl_attr_get_payload(tb[IFLA_VF_MAC]))->mac, 6);
		vi->has_mac = true;
	}
	if (tb[IFLA_VF_VLAN]) {
		memcpy(u, mnl_attr_get_payload(tb[IFLA_VF_VLAN]), 12);
		vi->vlan = reported(u[1]), vi->qos = reported(u[2]);
	}
	if (tb[IFLA_VF_SPOOFCHK]) {
		memcpy(u, mnl_attr_get_payload(tb[IFLA_VF_SPOOFCHK]), 8);
		vi->spoofchk = reported(u[1]);
	}
	if (tb[IFLA_VF_TRUST]) {
		memcpy(u, mnl_attr_get_payload(tb[IFLA_VF_TRUST]), 8);
		vi->trust = reported(u[1]);
	}
	if (tb[IFLA_VF_LINK_STATE]) {
		memcpy(u, mnl_attr_get_payload(tb[IFLA_VF_LINK_STATE]), 8);
		vi->link_state = reported(u[1]);
	}
	if (tb[IFLA_VF_RATE]) {
		memcpy(u, mnl_attr_get_payload(tb[IFLA_VF_RATE]), 12);
		vi->min_rate = reported(u[1]), vi->max_rate = reported(u[2]);
	}
}

static int vf_info_cb(const struct nlattr *a, void *data)
{
	const struct nlattr *tb[IFLA_VF_MAX + 1] = { NULL };
	struct sriov_link *l = data;
	struct sriov_vf_info *vi;
	unsigned vf = 0;

	if (mnl_attr_get_type(a) != IFLA_VF_INFO)
		return MNL_CB_OK;
	if (l->nr_vfs == SRIOV_MAX_VFS || parse_nested(a, vf_field_cb, tb) != MNL_CB_OK ||
	    vf_index_of(tb, &vf))
		return MNL_CB_ERROR;
	vi = &l->vf[l->nr_vfs++];
	*vi = (struct sriov_vf_info){ .vf = vf, .vlan = -1, .qos = -1, .spoofchk = -1, .trust = -1,
				      .link_state = -1, .min_rate = -1, .max_rate = -1 };
	fill_vf(tb, vi);
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
	struct sriov_link *l = data;
	size_t n = mnl_attr_get_payload_len(a);

	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		if (!n || n > IFNAMSIZ || ((const char *)mnl_attr_get_payload(a))[n - 1] != '\0')
			return MNL_CB_ERROR;
		memcpy(l->ifname, mnl_attr_get_payload(a), n);
		return MNL_CB_OK;
	case IFLA_NUM_VF:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		l->num_vf = (int)(mnl_attr_get_u32(a) & 0xffff);
		return MNL_CB_OK;
	case IFLA_VFINFO_LIST:
		return parse_nested(a, vf_info_cb, l);
	default:
		return MNL_CB_OK;
	}
}

int sriov_msg_parse_link(const void *buf, size_t len, uint32_t seq, struct sriov_link *out)
{
	const struct nlmsghdr *nlh = one_message(buf, len, seq);
	const struct ifinfomsg *ifi;

	memset(out, 0, sizeof(*out));
	out->num_vf = -1;
	if (!nlh)
		return -EBADMSG;
	if (nlh->nlmsg_type == NLMSG_ERROR)
		return error_of(nlh) ?: -EBADMSG;	/* an ack is no answer to GETLINK */
	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return -EBADMSG;
	ifi = mnl_nlmsg_get_payload(nlh);
	out->ifindex = ifi->ifi_index;
	out->flags = ifi->ifi_flags;
	return parse_exact((const char *)ifi + MNL_ALIGN(sizeof(*ifi)),
			   mnl_nlmsg_get_payload_len(nlh) - MNL_ALIGN(sizeof(*ifi)), link_attr_cb, out);
}

const struct sriov_vf_info *sriov_link_vf(const struct sriov_link *l, unsigned vf)
{
	unsigned i;

	for (i = 0; i < l->nr_vfs; i++)
		if (l->vf[i].vf == vf)
			return &l->vf[i];
	return NULL;
}
