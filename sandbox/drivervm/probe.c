/*
 * sluice: the driver VM's liveness probe: ARP through its downlink TAP
 * (RFC 826, RFC 5227 probes). The answer is made by the driver VM's kernel
 * (net/ipv4/arp.c answers a probe for a local address), so a stopped VMM or a
 * wedged guest kernel both fall silent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox/drivervm/dvm.h"

#define ARP_OFF		14	/* after the Ethernet header */
#define ARPOP_REQ	1
#define ARPOP_REP	2

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

size_t dvm_arp_probe(uint8_t *buf, size_t len, const uint8_t src[6], const uint8_t dst[6], uint32_t ip)
{
	uint8_t *a = buf + ARP_OFF;

	if (len < DVM_ARP_LEN)
		return 0;
	memset(buf, 0, DVM_ARP_LEN);
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	put16(buf + 12, ETH_P_ARP);
	put16(a, 1);			/* hardware: Ethernet */
	put16(a + 2, ETH_P_IP);		/* protocol: IPv4 */
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, ARPOP_REQ);
	memcpy(a + 8, src, 6);		/* sender hardware address; sender IP stays 0.0.0.0 */
	memcpy(a + 24, &ip, 4);		/* target IP; target hardware address stays 0 */
	return DVM_ARP_LEN;
}

bool dvm_arp_is_answer(const uint8_t *f, size_t len, uint32_t ip, const uint8_t mac[6])
{
	const uint8_t *a = f + ARP_OFF;

	return len >= DVM_ARP_LEN && get16(f + 12) == ETH_P_ARP && get16(a) == 1 &&
	       get16(a + 2) == ETH_P_IP && a[4] == 6 && a[5] == 4 && get16(a + 6) == ARPOP_REP &&
	       !memcmp(a + 8, mac, 6) && !memcmp(a + 14, &ip, 4);
}

/* ARP replies only: ethertype 0x0806 at 12, opcode 2 at 20; the rest is dropped in the kernel. */
static int attach_filter(int fd)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 0, 3),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, ARP_OFF + 6),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARPOP_REP, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, DVM_ARP_LEN),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ? -errno : 0;
}

int dvm_probe_open(int ifindex)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex,
	};
	int one = 1, fd, err;

	/* Protocol 0 first: no frame is queued before the filter is in place. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if ((err = attach_filter(fd)) ||
	    (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0 && (err = -errno)) ||
	    (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 && (err = -errno))) {
		close(fd);
		return err;
	}
	return fd;
}

int dvm_probe_send(int fd, int ifindex, const uint8_t *frame, size_t len)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP), .sll_ifindex = ifindex,
		.sll_halen = 6,
	};

	memcpy(sll.sll_addr, frame, 6);
	return sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0 ? -errno : 0;
}
