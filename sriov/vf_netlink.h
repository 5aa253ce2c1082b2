/*
 * sluice: VF settings over rtnetlink (libmnl).
 *
 * A PF's VFs are configured through the PF's netdev: RTM_GETLINK with
 * IFLA_EXT_MASK = RTEXT_FILTER_VF returns IFLA_VFINFO_LIST, one nested
 * IFLA_VF_INFO per VF; RTM_SETLINK with IFLA_VFINFO_LIST/IFLA_VF_INFO/
 * IFLA_VF_* sets one (include/uapi/linux/if_link.h; net/core/rtnetlink.c
 * do_setvfinfo() applies the attributes in order and stops at the first
 * error, so sluice sends one setting per message and can name the one the
 * driver refused).
 *
 * Message building and parsing (vf_msg.c) are pure functions on byte
 * buffers, unit-tested with golden bytes; the socket I/O is vf_netlink.c.
 */
#ifndef SLUICE_SRIOV_VF_NETLINK_H
#define SLUICE_SRIOV_VF_NETLINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRIOV_MAX_VFS	64	/* VFs of one PF sluice looks at */
#define SRIOV_NL_BUF	65536	/* one RTM_NEWLINK with every VF's info fits */

enum sriov_setting {
	SRIOV_SET_MAC,		/* IFLA_VF_MAC */
	SRIOV_SET_VLAN,		/* IFLA_VF_VLAN: vlan + qos */
	SRIOV_SET_SPOOFCHK,	/* IFLA_VF_SPOOFCHK */
	SRIOV_SET_TRUST,	/* IFLA_VF_TRUST */
	SRIOV_SET_RATE,		/* IFLA_VF_RATE: min + max, Mbps */
	SRIOV_SET_LINK_STATE,	/* IFLA_VF_LINK_STATE: IFLA_VF_LINK_STATE_* */
};

/* "mac", "vlan", "spoofchk", "trust", "rate", "link state": for messages. */
const char *sriov_setting_name(enum sriov_setting s);

struct sriov_vf_set {
	enum sriov_setting what;
	unsigned vf;
	uint8_t mac[6];
	unsigned vlan, qos;
	bool on;			/* spoofchk, trust */
	unsigned min_rate, max_rate;
	unsigned link_state;
};

/* What the kernel reports for one VF; absent attributes leave -1 / false. */
struct sriov_vf_info {
	unsigned vf;
	bool has_mac;
	uint8_t mac[6];
	int vlan, qos;
	int spoofchk, trust;		/* 0/1, -1 absent or unsupported */
	int link_state;			/* IFLA_VF_LINK_STATE_*, -1 absent */
	int min_rate, max_rate;		/* Mbps, -1 absent */
};

struct sriov_link {
	int ifindex;
	unsigned flags;			/* ifi_flags: IFF_UP */
	char ifname[IFNAMSIZ];
	int num_vf;			/* IFLA_NUM_VF, -1 absent */
	unsigned nr_vfs;		/* entries of vf[], in the kernel's order */
	struct sriov_vf_info vf[SRIOV_MAX_VFS];
};

/* Build one request into @buf (@len bytes). Its length, or 0 when it does not fit. */
size_t sriov_msg_getlink(void *buf, size_t len, uint32_t seq, int ifindex);
size_t sriov_msg_set_vf(void *buf, size_t len, uint32_t seq, int ifindex,
			const struct sriov_vf_set *s);
size_t sriov_msg_set_up(void *buf, size_t len, uint32_t seq, int ifindex, bool up);
/* Put @ifindex in bridge @master (its ifindex), or take it out of its bridge with 0. */
size_t sriov_msg_set_master(void *buf, size_t len, uint32_t seq, int ifindex, int master);

/*
 * Parse the reply to sriov_msg_getlink(@seq): 0; the kernel's -errno from
 * an NLMSG_ERROR; -EBADMSG for anything truncated, mis-sized, of another
 * sequence number, or with a VF index beyond SRIOV_MAX_VFS.
 */
int sriov_msg_parse_link(const void *buf, size_t len, uint32_t seq, struct sriov_link *out);
/* Parse the acknowledgement of a set request: 0, the kernel's -errno, or -EBADMSG. */
int sriov_msg_parse_ack(const void *buf, size_t len, uint32_t seq);

/* The socket (vf_netlink.c). Each call sends one request and reads its answer. */
struct sriov_nl {
	struct mnl_socket *sock;
	uint32_t seq, portid;
};

int sriov_nl_open(struct sriov_nl *nl);
void sriov_nl_close(struct sriov_nl *nl);
int sriov_nl_get_link(struct sriov_nl *nl, int ifindex, struct sriov_link *out);
int sriov_nl_set_vf(struct sriov_nl *nl, int ifindex, const struct sriov_vf_set *s);
int sriov_nl_set_up(struct sriov_nl *nl, int ifindex, bool up);
/* 0 or the kernel's -errno (-EOPNOTSUPP: @master is no bridge; -EBUSY: a port elsewhere). */
int sriov_nl_set_master(struct sriov_nl *nl, int ifindex, int master);

/* The VF @vf's entry of @l, or NULL. */
const struct sriov_vf_info *sriov_link_vf(const struct sriov_link *l, unsigned vf);

#endif
