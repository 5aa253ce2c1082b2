/* sluice: `sluice run --disk` and `--net` parsing (pure, unit-tested). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/cli/cli.h"
#include "vmm/log.h"
#include "vmm/cli/run.h"

/* PATH[,ro]: a path may hold commas; only a trailing ",ro" is an option. */
int run_opt_disk(struct run_opts *o, const char *arg)
{
	struct virtio_blk_dev_config *d;
	size_t len = strlen(arg);
	bool ro = len >= 3 && !strcmp(arg + len - 3, ",ro");

	if (o->nr_disks == RUN_MAX_DISKS)
		return run_opt_error("--disk %s: at most %d disks per VM", arg, RUN_MAX_DISKS);
	if (ro)
		len -= 3;
	if (!len)
		return run_opt_error("--disk needs the path of a raw image: --disk PATH[,ro]");
	if (len >= sizeof(d->path))
		return run_opt_error("--disk: path longer than %zu bytes", sizeof(d->path) - 1);
	d = &o->disk[o->nr_disks++];
	memcpy(d->path, arg, len);
	d->path[len] = '\0';
	d->ro = ro;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int run_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned i;
	int hi, lo;

	for (i = 0; i < 6; i++, s += 3) {
		hi = hexval(s[0]);
		lo = hi < 0 ? -1 : hexval(s[1]);
		if (lo < 0 || s[2] != (i == 5 ? '\0' : ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	/* IEEE 802: bit 0 of the first octet is group (multicast); a NIC's own address is not. */
	if (mac[0] & 1 || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return -EINVAL;
	return 0;
}

/* Linux interface names (dev_valid_name): 1-15 bytes, no '/', ':' or whitespace; no '%' (a template). */
static bool ifname_ok(const char *s, size_t len)
{
	size_t i;

	if (!len || len >= IFNAMSIZ || (len == 1 && s[0] == '.') || (len == 2 && !strncmp(s, "..", 2)))
		return false;
	for (i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == ':' || s[i] == '%' || s[i] <= ' ' || s[i] == 0x7f)
			return false;
	return true;
}

static int net_option(struct virtio_net_dev_config *n, const char *opt, size_t len, const char *arg)
{
	char val[32];

	if (len > 4 && !strncmp(opt, "mac=", 4)) {
		if (len - 4 >= sizeof(val))
			return run_opt_error("--net %s: mac= takes six hex octets, 52:54:00:12:34:56", arg);
		memcpy(val, opt + 4, len - 4);
		val[len - 4] = '\0';
		if (run_parse_mac(val, n->mac))
			return run_opt_error("--net %s: bad mac '%s': give six hex octets such as "
				   "52:54:00:12:34:56, not a multicast or zero address", arg, val);
		n->has_mac = true;
		return 0;
	}
	if (len == 8 && !strncmp(opt, "vhost=on", 8)) {
		n->vhost = true;
		return 0;
	}
	if (len == 9 && !strncmp(opt, "vhost=off", 9)) {
		n->vhost = false;
		return 0;
	}
	return run_opt_error("--net %s: unknown option '%.*s': use mac=MAC or vhost=on|off", arg, (int)len, opt);
}

/* Any MAC given twice among the TAP NICs and the VFs: one address, two NICs on a segment. */
static int mac_taken(const struct run_opts *o, const uint8_t mac[6], const char *arg)
{
	unsigned i;

	for (i = 0; i < o->nr_nets + o->nr_vfs; i++) {
		bool vf = i >= o->nr_nets;
		const uint8_t *m = vf ? o->vf[i - o->nr_nets].mac : o->net[i].mac;

		if ((vf ? o->vf[i - o->nr_nets].has_mac : o->net[i].has_mac) && !memcmp(m, mac, 6))
			return run_opt_error("--net %s: mac %02x:%02x:%02x:%02x:%02x:%02x is already %s%u's; "
					     "give each device its own", arg, mac[0], mac[1], mac[2], mac[3],
					     mac[4], mac[5], vf ? "vf" : "net", vf ? i - o->nr_nets : i);
	}
	return 0;
}

static int vf_onoff(const char *opt, size_t len, size_t klen, int *out, const char *arg)
{
	if (len == klen + 2 && !strncmp(opt + klen, "on", 2))
		*out = 1;
	else if (len == klen + 3 && !strncmp(opt + klen, "off", 3))
		*out = 0;
	else
		return run_opt_error("--net %s: '%.*s': give on or off", arg, (int)len, opt);
	return 0;
}

static int vf_number(const char *opt, size_t len, size_t klen, unsigned long max, int *out,
		     const char *arg, const char *what)
{
	char val[16];
	unsigned long v;

	if (len - klen >= sizeof(val))
		return run_opt_error("--net %s: bad %s '%.*s'", arg, what, (int)len, opt);
	memcpy(val, opt + klen, len - klen);
	val[len - klen] = '\0';
	if (cli_parse_uint(val, 0, max, &v))
		return run_opt_error("--net %s: bad %s '%s': give 0-%lu", arg, what, val, max);
	*out = (int)v;
	return 0;
}

static int vf_option(const struct run_opts *o, struct vf_request *r, const char *opt, size_t len,
		     const char *arg)
{
	char val[32];

	if (len > 4 && !strncmp(opt, "mac=", 4)) {
		if (len - 4 >= sizeof(val))
			return run_opt_error("--net %s: mac= takes six hex octets, 02:00:00:12:34:56", arg);
		memcpy(val, opt + 4, len - 4);
		val[len - 4] = '\0';
		if (run_parse_mac(val, r->mac))
			return run_opt_error("--net %s: bad mac '%s': give six hex octets such as "
					     "02:00:00:12:34:56, not a multicast or zero address", arg, val);
		r->has_mac = true;
		return mac_taken(o, r->mac, arg);
	}
	if (len > 5 && !strncmp(opt, "vlan=", 5))
		return vf_number(opt, len, 5, 4095, &r->vlan, arg, "vlan (0: none)");
	if (len > 5 && !strncmp(opt, "rate=", 5))
		return vf_number(opt, len, 5, 1000000, &r->rate, arg, "rate (max TX Mbps, 0: none)");
	if (len > 9 && !strncmp(opt, "spoofchk=", 9))
		return vf_onoff(opt, len, 9, &r->spoofchk, arg);
	if (len > 6 && !strncmp(opt, "trust=", 6))
		return vf_onoff(opt, len, 6, &r->trust, arg);
	return run_opt_error("--net %s: unknown option '%.*s': use mac=, vlan=, spoofchk=, trust= or rate=",
			     arg, (int)len, opt);
}

/* vf:PF[,mac=MAC][,vlan=N][,spoofchk=on|off][,trust=on|off][,rate=MBPS] */
static int run_opt_net_vf(struct run_opts *o, const char *arg)
{
	struct vf_request r = { .vlan = -1, .spoofchk = -1, .trust = -1, .rate = -1 };
	const char *p = arg + 3, *end = strchrnul(p, ',');
	size_t len = (size_t)(end - p);
	int err;

	if (o->nr_nets + o->nr_vfs == RUN_MAX_NETS)
		return run_opt_error("--net %s: at most %d network devices per VM", arg, RUN_MAX_NETS);
	if (!len || len >= sizeof(r.pf) || memchr(p, '/', len) || memchr(p, ' ', len))
		return run_opt_error("--net %s: give the PF as an interface or PCI address: --net vf:enp1s0", arg);
	memcpy(r.pf, p, len);
	for (p = end; *p == ','; p = end) {
		end = strchrnul(++p, ',');
		if ((err = vf_option(o, &r, p, (size_t)(end - p), arg)))
			return err;
	}
	o->vf[o->nr_vfs++] = r;
	return 0;
}

/* The interface name after "tap:" or "bridge:" at *@p, into @out; *@p moves past it. */
static int net_ifname(const char **p, char *out, const char *arg, const char *what)
{
	const char *end = strchrnul(*p, ',');
	size_t len = (size_t)(end - *p);

	if (!ifname_ok(*p, len))
		return run_opt_error("--net %s: '%.*s' is not %s name (1-15 characters, "
				     "no '/', ':', '%%' or spaces)", arg, (int)len, *p, what);
	memcpy(out, *p, len);
	out[len] = '\0';
	*p = end;
	return 0;
}

/* tap[:NAME][,mac=MAC][,vhost=on|off], bridge:BR[,mac=MAC][,vhost=on|off], or vf:PF,... */
int run_opt_net(struct run_opts *o, const char *arg)
{
	struct virtio_net_dev_config n = { .ifname = "" };
	const char *p = arg, *end;
	int err;

	if (!strncmp(arg, "vf:", 3))
		return run_opt_net_vf(o, arg);
	if (o->nr_nets + o->nr_vfs == RUN_MAX_NETS)
		return run_opt_error("--net %s: at most %d network devices per VM", arg, RUN_MAX_NETS);
	if (!strncmp(p, "bridge:", 7)) {
		p += 7;
		if (!*p || *p == ',')
			return run_opt_error("--net %s: give the host bridge to join: --net bridge:BR "
					     "(create one with ip link add BR type bridge)", arg);
		if ((err = net_ifname(&p, n.bridge, arg, "a bridge")))
			return err;
	} else if (strncmp(p, "tap", 3) || (p[3] && p[3] != ':' && p[3] != ',')) {
		return run_opt_error("--net %s: the backend is a TAP device, a host bridge or a VF: "
				     "--net tap[:NAME][,mac=MAC][,vhost=on], --net bridge:BR[,mac=MAC][,vhost=on] "
				     "or --net vf:PF[,mac=MAC]", arg);
	} else if (*(p += 3) == ':') {
		p++;
		if ((err = net_ifname(&p, n.ifname, arg, "an interface")))
			return err;
	}
	while (*p == ',') {
		end = strchrnul(++p, ',');
		err = net_option(&n, p, (size_t)(end - p), arg);
		if (err)
			return err;
		p = end;
	}
	if (n.has_mac && (err = mac_taken(o, n.mac, arg)))
		return err;
	for (unsigned i = 0; i < o->nr_nets; i++) {
		if (n.ifname[0] && !strcmp(o->net[i].ifname, n.ifname))
			return run_opt_error("--net %s: tap %s is given twice; a TAP serves one device", arg, n.ifname);
		/* Two NICs with one address on a segment: frames for it reach one at random. */
		if (n.has_mac && o->net[i].has_mac && !memcmp(o->net[i].mac, n.mac, sizeof(n.mac)))
			return run_opt_error("--net %s: mac %02x:%02x:%02x:%02x:%02x:%02x is already net%u's; "
					     "give each device its own", arg, n.mac[0], n.mac[1], n.mac[2],
					     n.mac[3], n.mac[4], n.mac[5], i);
	}
	o->net[o->nr_nets++] = n;
	return 0;
}
