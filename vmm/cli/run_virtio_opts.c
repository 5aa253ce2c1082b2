/* sluice: `sluice run --disk` and `--net` parsing (pure, unit-tested). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

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

/* tap[:NAME][,mac=MAC][,vhost=on|off] */
int run_opt_net(struct run_opts *o, const char *arg)
{
	struct virtio_net_dev_config n = { .ifname = "" };
	const char *p = arg, *end;
	size_t len;
	int err;

	if (o->nr_nets == RUN_MAX_NETS)
		return run_opt_error("--net %s: at most %d network devices per VM", arg, RUN_MAX_NETS);
	if (strncmp(p, "tap", 3) || (p[3] && p[3] != ':' && p[3] != ','))
		return run_opt_error("--net %s: the backend is a TAP device: --net tap[:NAME][,mac=MAC][,vhost=on]", arg);
	p += 3;
	if (*p == ':') {
		end = strchrnul(++p, ',');
		len = (size_t)(end - p);
		if (!ifname_ok(p, len))
			return run_opt_error("--net %s: '%.*s' is not an interface name (1-15 characters, "
				   "no '/', ':', '%%' or spaces)", arg, (int)len, p);
		memcpy(n.ifname, p, len);
		n.ifname[len] = '\0';
		p = end;
	}
	while (*p == ',') {
		end = strchrnul(++p, ',');
		err = net_option(&n, p, (size_t)(end - p), arg);
		if (err)
			return err;
		p = end;
	}
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
