/* sluice: `sluice driver-vm run` argument parsing (pure, unit-tested). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/cli/cli.h"
#include "vmm/cli/driver_vm.h"

static const char dvm_usage[] =
	"usage: sluice driver-vm run --device DEV --bridge BR [--spare DEV2]\n"
	"                  [--kernel BZIMAGE] [--initrd FILE] [--append STRING]\n"
	"                  [--addr IP/PREFIX] [--memory SIZE]\n"
	"                  [--probe-period MS] [--probe-misses K] [--boot-timeout SECONDS]\n"
	"                  [--restart-limit N] [--allow-unsafe-interrupts]\n"
	"                  [--jail-user USER | --no-jail]\n"
	"       sluice driver-vm status [--json] [BR]\n"
	"\n"
	"Run a NIC's driver in a driver VM that owns DEV through VFIO and serves the\n"
	"host bridge BR (DHCP, routing and NAT to DEV's network), supervised in the\n"
	"foreground: a driver VM that exits, panics or stops answering is restarted,\n"
	"or replaced by the warm spare. Consumers join BR: `sluice run --net bridge:BR`,\n"
	"or the host itself (udhcpc -i BR).\n"
	"  --device DEV       the NIC: a PCI address, an interface, or vf:PF (a VF of PF)\n"
	"  --bridge BR        an existing host bridge (ip link add BR type bridge)\n"
	"  --spare DEV2       a warm spare on a second device (another VF: vf:PF)\n"
	"  --kernel BZIMAGE   default " DVM_DEFAULT_KERNEL "\n"
	"  --initrd FILE      default " DVM_DEFAULT_INITRD "\n"
	"                     (scripts/driver-image builds both)\n"
	"  --append STRING    more kernel command line for the driver VMs (driver options)\n"
	"  --addr IP/PREFIX   the driver VM's address on BR (default " DVM_DEFAULT_ADDR ")\n"
	"  --memory SIZE      each driver VM's RAM (default 256M)\n"
	"  --probe-period MS  probe each driver VM's kernel (ARP) this often (default 10)\n"
	"  --probe-misses K   hung after K periods without an answer (default 10)\n"
	"  --boot-timeout S   a driver VM must answer within S seconds of its start (default 60)\n"
	"  --restart-limit N  give a device up after N+1 failures in a row (default 5)\n"
	"  --allow-unsafe-interrupts, --jail-user USER, --no-jail: as for `sluice run`\n"
	"\n"
	"exit status: 0 stopped by SIGINT/SIGTERM/SIGHUP (everything given back),\n"
	"1 failure (the restart limit: no driver VM left), 2 bad input\n";

enum {
	OPT_DEVICE = 256, OPT_BRIDGE, OPT_SPARE, OPT_KERNEL, OPT_INITRD, OPT_ADDR, OPT_MEMORY,
	OPT_PERIOD, OPT_MISSES, OPT_BOOT, OPT_LIMIT, OPT_APPEND, OPT_UNSAFE_IRQ, OPT_JAIL_USER,
	OPT_NO_JAIL,
};

static const struct option dvm_longopts[] = {
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "bridge", required_argument, NULL, OPT_BRIDGE },
	{ "spare", required_argument, NULL, OPT_SPARE },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "addr", required_argument, NULL, OPT_ADDR },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "probe-period", required_argument, NULL, OPT_PERIOD },
	{ "probe-misses", required_argument, NULL, OPT_MISSES },
	{ "boot-timeout", required_argument, NULL, OPT_BOOT },
	{ "restart-limit", required_argument, NULL, OPT_LIMIT },
	{ "append", required_argument, NULL, OPT_APPEND },
	{ "allow-unsafe-interrupts", no_argument, NULL, OPT_UNSAFE_IRQ },
	{ "jail-user", required_argument, NULL, OPT_JAIL_USER },
	{ "no-jail", no_argument, NULL, OPT_NO_JAIL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

__attribute__((format(printf, 1, 2)))
static int opt_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sluice driver-vm run: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'sluice driver-vm --help')\n");
	return -EINVAL;
}

int dvm_parse_addr(const char *s, uint32_t *addr, unsigned *prefix)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	unsigned long p;
	uint32_t host;

	if (!slash || (size_t)(slash - s) >= sizeof(ip) || cli_parse_uint(slash + 1, 8, 30, &p))
		return -EINVAL;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	if (inet_pton(AF_INET, ip, addr) != 1)
		return -EINVAL;
	/* Neither the network nor the broadcast address of its subnet. */
	host = ntohl(*addr) & ((1u << (32 - p)) - 1);
	if (!host || host == (1u << (32 - p)) - 1)
		return -EINVAL;
	*prefix = (unsigned)p;
	return 0;
}

/* A PCI address, an interface name, or vf:PF: what --assign and --net vf: take. */
static int device_opt(const char *opt, const char *arg, const char **out)
{
	const char *name = strncmp(arg, "vf:", 3) ? arg : arg + 3;

	if (!*name || strlen(name) >= IFNAMSIZ + 16 || strpbrk(name, "/ ,"))
		return opt_error("--%s '%s': give a PCI address (0000:01:10.0), an interface (eth1) "
				 "or a VF of a PF (vf:eth0)", opt, arg);
	*out = arg;
	return 0;
}

static int number_opt(const char *opt, const char *arg, unsigned long min, unsigned long max,
		      unsigned *out)
{
	unsigned long v;

	if (cli_parse_uint(arg, min, max, &v))
		return opt_error("--%s '%s': give a whole number from %lu to %lu", opt, arg, min, max);
	*out = (unsigned)v;
	return 0;
}

static int set_opt(struct dvm_config *c, int o, const char *arg)
{
	switch (o) {
	case OPT_DEVICE: return device_opt("device", arg, &c->device);
	case OPT_SPARE: return device_opt("spare", arg, &c->spare);
	case OPT_BRIDGE:
		if (!*arg || strlen(arg) >= IFNAMSIZ || strpbrk(arg, "/: %"))
			return opt_error("--bridge '%s': not an interface name (1-15 characters, no '/', ':', "
					 "'%%' or spaces)", arg);
		c->bridge = arg;
		return 0;
	case OPT_KERNEL: c->kernel = arg; return 0;
	case OPT_INITRD: c->initrd = arg; return 0;
	case OPT_ADDR:
		if (dvm_parse_addr(arg, &c->addr, &c->prefix))
			return opt_error("--addr '%s': give a host address and prefix length 8-30, such as "
					 DVM_DEFAULT_ADDR, arg);
		return 0;
	case OPT_MEMORY:
		if (cli_parse_size(arg, &c->memory) || c->memory < (32ull << 20) || (c->memory & 0xfff))
			return opt_error("--memory '%s': give a size of at least 32M, such as 256M", arg);
		return 0;
	case OPT_PERIOD: return number_opt("probe-period", arg, 1, 10000, &c->probe_ms);
	case OPT_MISSES: return number_opt("probe-misses", arg, 2, 1000, &c->misses);
	case OPT_BOOT: return number_opt("boot-timeout", arg, 1, 3600, &c->boot_s);
	case OPT_LIMIT: return number_opt("restart-limit", arg, 0, 1000, &c->restart_limit);
	case OPT_APPEND:
		if (strlen(arg) > 512 || strpbrk(arg, "\n"))
			return opt_error("--append: at most 512 characters on one line");
		c->append = arg;
		return 0;
	case OPT_UNSAFE_IRQ: c->allow_unsafe_interrupts = true; return 0;
	case OPT_NO_JAIL: c->jail.enabled = false; return 0;
	case OPT_JAIL_USER:
		if (!*arg)
			return opt_error("--jail-user needs a user name or number");
		c->jail.user = arg;
		return 0;
	default:
		return -EINVAL;
	}
}

static int check_opts(const struct dvm_config *c)
{
	if (!c->device)
		return opt_error("no device: give --device BDF|IFNAME|vf:PF");
	if (!c->bridge)
		return opt_error("no bridge: give --bridge BR (an existing host bridge)");
	if (c->spare && !strcmp(c->spare, c->device) && strncmp(c->device, "vf:", 3))
		return opt_error("--spare %s is the --device itself: give the spare a second device", c->spare);
	if (!c->jail.enabled && c->jail.user)
		return opt_error("--jail-user and --no-jail: give one of them");
	return 0;
}

int dvm_parse_opts(int argc, char **argv, struct dvm_config *c)
{
	uint32_t seen = 0;
	int o, err, cur, li;

	*c = (struct dvm_config){
		.kernel = DVM_DEFAULT_KERNEL, .initrd = DVM_DEFAULT_INITRD, .memory = DVM_DEFAULT_MEMORY,
		.probe_ms = DVM_DEFAULT_PROBE_MS, .misses = DVM_DEFAULT_MISSES, .boot_s = DVM_DEFAULT_BOOT_S,
		.restart_limit = DVM_DEFAULT_RESTARTS, .jail = { .enabled = true }, .rundir = DVM_RUNDIR,
	};
	dvm_parse_addr(DVM_DEFAULT_ADDR, &c->addr, &c->prefix);
	optind = 0;
	opterr = 0;
	for (;;) {
		cur = optind ? optind : 1;
		li = -1;
		o = getopt_long(argc, argv, "+:h", dvm_longopts, &li);
		if (o == -1)
			break;
		if (li >= 0 && cur < argc && !cli_spelled_out(argv[cur], &dvm_longopts[li]))
			return opt_error("'%s': spell the option out: --%s", argv[cur], dvm_longopts[li].name);
		if (o == 'h') {
			fputs(dvm_usage, stdout);
			return 1;
		}
		if (o == '?' || o == ':')
			return opt_error("%s '%s'", o == ':' ? "missing value for" : "unknown option",
					 argv[optind - 1]);
		if (o >= OPT_DEVICE && o != OPT_UNSAFE_IRQ && o != OPT_NO_JAIL) {
			if (seen & (1u << (o - OPT_DEVICE)))
				return opt_error("--%s given twice: give it once", dvm_longopts[li].name);
			seen |= 1u << (o - OPT_DEVICE);
		}
		if ((err = set_opt(c, o, optarg)))
			return err;
	}
	if (optind < argc)
		return opt_error("unexpected argument '%s'", argv[optind]);
	return check_opts(c);
}

const char *dvm_usage_text(void)
{
	return dvm_usage;
}
