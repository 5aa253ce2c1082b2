/* sluice: the rtnetlink socket for VF settings (messages: vf_msg.c). */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <time.h>

#include "sriov/vf_netlink.h"

int sriov_nl_open(struct sriov_nl *nl)
{
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return -errno;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return err;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

void sriov_nl_close(struct sriov_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

/* Send @len bytes of @buf, read the answer back into @buf. Its length or -errno. */
static ssize_t transact(struct sriov_nl *nl, void *buf, size_t len)
{
	ssize_t n;

	if (!len)
		return -EMSGSIZE;
	if (mnl_socket_sendto(nl->sock, buf, len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl->sock, buf, SRIOV_NL_BUF);
	return n < 0 ? -errno : n;
}

int sriov_nl_get_link(struct sriov_nl *nl, int ifindex, struct sriov_link *out)
{
	void *buf = malloc(SRIOV_NL_BUF);
	uint32_t seq = ++nl->seq;
	ssize_t n;
	int err;

	if (!buf)
		return -ENOMEM;
	n = transact(nl, buf, sriov_msg_getlink(buf, SRIOV_NL_BUF, seq, ifindex));
	err = n < 0 ? (int)n : sriov_msg_parse_link(buf, (size_t)n, seq, out);
	free(buf);
	return err;
}

/* A set request: a fresh buffer and sequence number, then its ack (and the buffer freed). */
struct set_req {
	void *buf;
	uint32_t seq;
};

static int set_start(struct sriov_nl *nl, struct set_req *r)
{
	r->buf = malloc(SRIOV_NL_BUF);
	r->seq = ++nl->seq;
	return r->buf ? 0 : -ENOMEM;
}

static int set_finish(struct sriov_nl *nl, struct set_req *r, size_t len)
{
	ssize_t n = transact(nl, r->buf, len);
	int err = n < 0 ? (int)n : sriov_msg_parse_ack(r->buf, (size_t)n, r->seq);

	free(r->buf);
	return err;
}

int sriov_nl_set_vf(struct sriov_nl *nl, int ifindex, const struct sriov_vf_set *s)
{
	struct set_req r;

	if (set_start(nl, &r))
		return -ENOMEM;
	return set_finish(nl, &r, sriov_msg_set_vf(r.buf, SRIOV_NL_BUF, r.seq, ifindex, s));
}

int sriov_nl_set_up(struct sriov_nl *nl, int ifindex, bool up)
{
	struct set_req r;

	if (set_start(nl, &r))
		return -ENOMEM;
	return set_finish(nl, &r, sriov_msg_set_up(r.buf, SRIOV_NL_BUF, r.seq, ifindex, up));
}

int sriov_nl_set_master(struct sriov_nl *nl, int ifindex, int master)
{
	struct set_req r;

	if (set_start(nl, &r))
		return -ENOMEM;
	return set_finish(nl, &r, sriov_msg_set_master(r.buf, SRIOV_NL_BUF, r.seq, ifindex, master));
}
