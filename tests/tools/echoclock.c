/*
 * echoclock: ICMP echo round trips with a timestamp per reply, for far ends
 * that answer ICMP but run no socket server (DPDK testpmd's icmpecho mode).
 *
 *   echoclock [-s SIZE] [-n COUNT] [-w WARMUP] [-r RATE] [-t TIMEOUT_MS] IPV4
 *
 * SIZE bytes of ICMP data (like ping -s). Closed loop (no -r): one request
 * in flight, the next sent when its reply arrives. Open loop (-r RATE per
 * second): request i leaves at t0 + i / RATE whatever the replies do, and its
 * round trip is counted from that scheduled moment, so a stall delays every
 * request behind it in the numbers too (no coordinated omission). The first
 * WARMUP requests are not counted. One result line, microseconds:
 *   echoclock: dst=... size=... mode=closed|open rate=... samples=N answered=N
 *     lost=N dup=N late=N p25=... p50=... p75=... p90=... p99=... p99.9=...
 *     p99.99=... max=... min=... avg=... secs=... rps=...
 * Exit 0 when every counted request was answered, 1 otherwise, 2 on bad usage.
 *
 * With -g GAP_MS (an outage watch, open loop): also a line as soon as a reply
 * comes more than GAP_MS after the reply before it, the consumer's view of
 * an outage of the path, and a heartbeat a second with the replies of that
 * second (0 while the path is down):
 *   echoclock: gap ms=... seq=...
 *   echoclock: alive replies=N
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "percentile.h"

#define MAX_REQUESTS 65535	/* the ICMP sequence number is 16 bits */
#define MAX_DATA 1472		/* one 1500-byte frame: 1500 - 20 (IP) - 8 (ICMP) */

struct echo_run {
	int fd;
	struct sockaddr_in dst;
	uint16_t id;
	size_t size, total, warmup;
	double rate, timeout_s;
	double *sent_at;	/* when request i left (open loop: when it was due) */
	double *rtt_us;		/* per request; < 0 while unanswered */
	size_t late, dup;	/* open loop: sends more than one period behind */
	double gap_s;		/* -g: report a silence longer than this between replies */
	double last_reply;	/* when the last reply came; 0: none yet */
	double last_beat;	/* -g: when the last heartbeat line went out */
	size_t beat_replies;	/* -g: replies since then */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* RFC 1071 Internet checksum. */
static uint16_t inet_csum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static int send_request(struct echo_run *r, size_t seq)
{
	uint8_t pkt[sizeof(struct icmphdr) + MAX_DATA];
	struct icmphdr *h = (struct icmphdr *)pkt;
	size_t len = sizeof(*h) + r->size;

	memset(pkt, 0, len);
	for (size_t i = sizeof(*h); i < len; i++)
		pkt[i] = (uint8_t)i;
	h->type = ICMP_ECHO;
	h->un.echo.id = htons(r->id);
	h->un.echo.sequence = htons((uint16_t)seq);
	h->checksum = inet_csum(pkt, len);
	if (sendto(r->fd, pkt, len, 0, (const struct sockaddr *)&r->dst, sizeof(r->dst)) != (ssize_t)len)
		return -errno;
	return 0;
}

/* Take every reply that is waiting; a raw socket sees all ICMP, so filter ours. */
static void take_replies(struct echo_run *r)
{
	uint8_t buf[2048];
	ssize_t n;

	while ((n = recv(r->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		double t = now_s();
		const struct iphdr *ip = (const struct iphdr *)buf;
		size_t hl = (size_t)ip->ihl * 4;
		const struct icmphdr *h = (const struct icmphdr *)(buf + hl);
		size_t seq;

		if ((size_t)n < hl + sizeof(*h) || h->type != ICMP_ECHOREPLY || ntohs(h->un.echo.id) != r->id)
			continue;
		seq = ntohs(h->un.echo.sequence);
		if (seq >= r->total || r->sent_at[seq] == 0)
			continue;
		if (r->rtt_us[seq] >= 0) {
			r->dup++;
			continue;
		}
		r->rtt_us[seq] = (t - r->sent_at[seq]) * 1e6;
		if (r->gap_s > 0 && r->last_reply > 0 && t - r->last_reply > r->gap_s) {
			printf("echoclock: gap ms=%.0f seq=%zu\n", (t - r->last_reply) * 1e3, seq);
			fflush(stdout);
		}
		r->last_reply = t;
		r->beat_replies++;
	}
}

/* -g: one line a second, so a watcher tells a path that is back from one that stays down. */
static void heartbeat(struct echo_run *r)
{
	double t = now_s();

	if (r->gap_s <= 0 || t - r->last_beat < 1.0)
		return;
	printf("echoclock: alive replies=%zu\n", r->beat_replies);
	fflush(stdout);
	r->beat_replies = 0;
	r->last_beat = t;
}

static bool all_answered(const struct echo_run *r, size_t first, size_t upto)
{
	for (size_t i = first; i < upto; i++) {
		if (r->rtt_us[i] < 0)
			return false;
	}
	return true;
}

/* Take replies until `until` (monotonic seconds), or until requests
 * [first, upto) are all answered (never, for an empty range). ppoll: a
 * millisecond poll timeout would send open-loop requests up to 1 ms late. */
static void wait_replies(struct echo_run *r, double until, size_t first, size_t upto)
{
	struct pollfd p = { .fd = r->fd, .events = POLLIN };
	double left;

	while ((left = until - now_s()) > 0 && !(first < upto && all_answered(r, first, upto))) {
		struct timespec ts = { .tv_sec = (time_t)left };

		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		if (ppoll(&p, 1, &ts, NULL) > 0)
			take_replies(r);
	}
}

static int run_closed(struct echo_run *r)
{
	int err;

	for (size_t i = 0; i < r->total; i++) {
		r->sent_at[i] = now_s();
		err = send_request(r, i);
		if (err)
			return err;
		wait_replies(r, r->sent_at[i] + r->timeout_s, i, i + 1);
	}
	return 0;
}

static int run_open(struct echo_run *r)
{
	double t0 = now_s() + 0.01, period = 1.0 / r->rate;
	int err;

	for (size_t i = 0; i < r->total; i++) {
		double due = t0 + (double)i * period;

		wait_replies(r, due, 0, 0);
		if (now_s() > due + period)
			r->late++;
		r->sent_at[i] = due;
		err = send_request(r, i);
		if (err)
			return err;
		take_replies(r);
		heartbeat(r);
	}
	wait_replies(r, now_s() + r->timeout_s, r->warmup, r->total);
	return 0;
}

static void report(const struct echo_run *r, double secs)
{
	size_t n = r->total - r->warmup, got = 0;
	double *v = calloc(n ? n : 1, sizeof(*v)), sum = 0;
	static const struct { const char *name; double p; } ps[] = {
		{ "p25", 25 }, { "p50", 50 }, { "p75", 75 }, { "p90", 90 }, { "p99", 99 },
		{ "p99.9", 99.9 }, { "p99.99", 99.99 }, { "max", 100 },
	};

	if (!v)
		return;
	for (size_t i = r->warmup; i < r->total; i++) {
		if (r->rtt_us[i] >= 0) {
			v[got++] = r->rtt_us[i];
			sum += r->rtt_us[i];
		}
	}
	pctl_sort(v, got);
	printf("echoclock: dst=%s size=%zu mode=%s rate=%g samples=%zu answered=%zu lost=%zu dup=%zu late=%zu",
	       inet_ntoa(r->dst.sin_addr), r->size, r->rate > 0 ? "open" : "closed", r->rate,
	       n, got, n - got, r->dup, r->late);
	for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++)
		printf(" %s=%.1f", ps[k].name, pctl_at(v, got, ps[k].p));
	printf(" min=%.1f avg=%.1f secs=%.3f rps=%.1f\n", got ? v[0] : NAN, got ? sum / (double)got : NAN,
	       secs, secs > 0 ? (double)got / secs : 0);
	free(v);
}

static int usage(void)
{
	fprintf(stderr, "usage: echoclock [-s SIZE] [-n COUNT] [-w WARMUP] [-r RATE [-g GAP_MS]] [-t TIMEOUT_MS] IPV4\n"
			"  SIZE 0..%d bytes of ICMP data; COUNT + WARMUP at most %d\n", MAX_DATA, MAX_REQUESTS);
	return 2;
}

static int parse_args(struct echo_run *r, int argc, char **argv)
{
	unsigned long n = 1000, w = 100, s = 56, t = 1000, g = 0;
	char *end;
	int c;

	while ((c = getopt(argc, argv, "s:n:w:r:t:g:")) != -1) {
		unsigned long *dst = c == 's' ? &s : c == 'n' ? &n : c == 'w' ? &w : c == 't' ? &t :
				     c == 'g' ? &g : NULL;

		if (c == 'r') {
			r->rate = strtod(optarg, &end);
			if (*end || !(r->rate > 0))
				return -EINVAL;
		} else if (dst) {
			errno = 0;
			*dst = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg)
				return -EINVAL;
		} else {
			return -EINVAL;
		}
	}
	if (optind != argc - 1 || !inet_aton(argv[optind], &r->dst.sin_addr))
		return -EINVAL;
	if (s > MAX_DATA || n < 1 || n + w > MAX_REQUESTS || t < 1 || (g && !(r->rate > 0)))
		return -EINVAL;
	r->gap_s = (double)g / 1e3;
	r->dst.sin_family = AF_INET;
	r->size = s;
	r->total = n + w;
	r->warmup = w;
	r->timeout_s = (double)t / 1e3;
	return 0;
}

int main(int argc, char **argv)
{
	struct echo_run r = { .fd = -1 };
	int err;

	if (parse_args(&r, argc, argv))
		return usage();
	r.id = (uint16_t)getpid();
	r.sent_at = calloc(r.total, sizeof(double));
	r.rtt_us = malloc(r.total * sizeof(double));
	if (!r.sent_at || !r.rtt_us)
		return 1;
	for (size_t i = 0; i < r.total; i++)
		r.rtt_us[i] = -1;
	r.fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (r.fd < 0) {
		fprintf(stderr, "echoclock: raw ICMP socket: %s (needs root or CAP_NET_RAW)\n", strerror(errno));
		return 1;
	}
	err = r.rate > 0 ? run_open(&r) : run_closed(&r);
	if (err) {
		fprintf(stderr, "echoclock: send to %s: %s\n", inet_ntoa(r.dst.sin_addr), strerror(-err));
		return 1;
	}
	/* The counted part only: from the first request after the warm-up. */
	report(&r, now_s() - r.sent_at[r.warmup]);
	for (size_t i = r.warmup; i < r.total; i++) {
		if (r.rtt_us[i] < 0)
			return 1;
	}
	return 0;
}
