/* sluice: `sluice run` argument parsing (pure, unit-tested). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vmm/cli/cli.h"
#include "vmm/log.h"
#include "vmm/cli/run.h"
#include "vmm/vm.h"

static const char run_usage[] =
	"usage: sluice run --kernel BZIMAGE [--initrd FILE] [--cmdline STRING]\n"
	"                  [--cpus N] [--memory SIZE] [--hugepages] [--name NAME]\n"
	"                  [--assign BDF|IFNAME]... [--allow-unsafe-interrupts] [--stats]\n"
	"                  [--disk PATH[,ro]]... [--net tap[:NAME][,mac=MAC][,vhost=on]]...\n"
	"                  [--net bridge:BR[,mac=MAC][,vhost=on]]...\n"
	"                  [--net vf:PF[,mac=MAC][,vlan=N][,spoofchk=on|off][,trust=on|off][,rate=MBPS]]...\n"
	"                  [--viommu] [--jail-user USER | --no-jail]\n"
	"\n"
	"Boot a Linux guest. Its console is this terminal (Ctrl-A x quits,\n"
	"Ctrl-A Ctrl-A sends Ctrl-A). SIZE takes K, M, G suffixes.\n"
	"  --kernel BZIMAGE   the guest kernel (a bzImage, e.g. /boot/vmlinuz-*)\n"
	"  --initrd FILE      an initramfs\n"
	"  --cmdline STRING   kernel command line (default \"" RUN_DEFAULT_CMDLINE "\")\n"
	"  --cpus N           vCPUs (default 1)\n"
	"  --memory SIZE      guest RAM (default 256M)\n"
	"  --hugepages        back guest RAM with 2 MiB hugepages\n"
	"  --name NAME        the VM's name in messages (default \"vm\")\n"
	"  --assign DEV       give the guest a host PCI device through VFIO: a PCI\n"
	"                     address (0000:01:10.0) or a network interface (eth1);\n"
	"                     repeatable, up to 8. It is bound to vfio-pci for the run\n"
	"                     and given back to its driver on every exit\n"
	"  --allow-unsafe-interrupts\n"
	"                     assign even when the host cannot remap interrupts (a\n"
	"                     device could then inject any interrupt into the host)\n"
	"  --stats            at the end, print KVM's exit counters (binary stats)\n"
	"                     and the exits sluice handled itself\n"
	"  --disk PATH[,ro]   a raw disk image as a virtio-blk disk (the guest's vda,\n"
	"                     vdb, ... in order); ,ro attaches it read-only. Repeatable,\n"
	"                     up to 8\n"
	"  --net tap[:NAME][,mac=MAC][,vhost=on]\n"
	"                     a virtio-net NIC on the TAP device NAME, created for the\n"
	"                     run (sluiceN if no NAME) unless it exists; MAC defaults\n"
	"                     to a random local one; vhost=on moves the data path into\n"
	"                     the kernel (vhost-net). Repeatable, up to 8\n"
	"  --net bridge:BR[,mac=MAC][,vhost=on]\n"
	"                     the same NIC on a TAP that sluice creates (sluiceN), brings\n"
	"                     up and adds to the existing host bridge BR; the TAP and\n"
	"                     its bridge port go when the run ends, however it ends\n"
	"  --net vf:PF[,mac=MAC][,vlan=N][,spoofchk=on|off][,trust=on|off][,rate=MBPS]\n"
	"                     a VF of the SR-IOV NIC PF (interface or PCI address) that\n"
	"                     no other sluice holds, created if PF has none, set up as\n"
	"                     asked (MAC defaults to a random local one) and assigned as\n"
	"                     --assign does; every VF setting, the PF's link and its VF\n"
	"                     count are given back when the run ends\n"
	"  --viommu           put the assigned devices (--assign, --net vf:; at least\n"
	"                     one) behind a virtio-iommu: the guest maps their DMA (for\n"
	"                     vfio-pci and DPDK in the guest); no RAM is pinned up\n"
	"                     front. Each device gets a VFIO container of its own, so\n"
	"                     two devices in one host IOMMU group are refused\n"
	"  --jail-user USER   the unprivileged user the VMM runs as (default: the\n"
	"                     system user 'sluice' if it exists, else 'nobody')\n"
	"  --no-jail          run the VMM without its jail (namespaces, empty root,\n"
	"                     no capabilities, seccomp): for debugging only\n"
	"\n"
	"exit status: 0 guest powered off, 1 failure, 2 bad input, 3 guest rebooted,\n"
	"4 guest panicked, 5 quit with Ctrl-A x, 128+N stopped by signal N\n";

enum {
	OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_CPUS, OPT_MEMORY, OPT_HUGEPAGES, OPT_NAME,
	OPT_ASSIGN, OPT_UNSAFE_IRQ, OPT_STATS, OPT_DISK, OPT_NET, OPT_JAIL_USER, OPT_NO_JAIL,
	OPT_VIOMMU,
};

static const struct option run_longopts[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "hugepages", no_argument, NULL, OPT_HUGEPAGES },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "assign", required_argument, NULL, OPT_ASSIGN },
	{ "allow-unsafe-interrupts", no_argument, NULL, OPT_UNSAFE_IRQ },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "net", required_argument, NULL, OPT_NET },
	{ "jail-user", required_argument, NULL, OPT_JAIL_USER },
	{ "no-jail", no_argument, NULL, OPT_NO_JAIL },
	{ "viommu", no_argument, NULL, OPT_VIOMMU },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int run_opt_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sluice run: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'sluice run --help')\n");
	return -EINVAL;
}

static int set_opt(struct run_opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_KERNEL: o->kernel = arg; return 0;
	case OPT_INITRD: o->initrd = arg; return 0;
	case OPT_CMDLINE: o->cmdline = arg; return 0;
	case OPT_HUGEPAGES: o->hugepages = true; return 0;
	case OPT_UNSAFE_IRQ: o->allow_unsafe_interrupts = true; return 0;
	case OPT_STATS: o->stats = true; return 0;
	case OPT_DISK: return run_opt_disk(o, arg);
	case OPT_NET: return run_opt_net(o, arg);
	case OPT_NO_JAIL: o->no_jail = true; return 0;
	case OPT_VIOMMU: o->viommu = true; return 0;
	case OPT_JAIL_USER:
		if (!*arg)
			return run_opt_error("--jail-user needs a user name or number");
		o->jail_user = arg;
		return 0;
	case OPT_ASSIGN:
		if (o->nr_assign == ARRAY_SIZE(o->assign))
			return run_opt_error("--assign %s: at most %zu devices per VM", arg, ARRAY_SIZE(o->assign));
		if (!*arg)
			return run_opt_error("--assign needs a PCI address or an interface name");
		o->assign[o->nr_assign++] = arg;
		return 0;
	case OPT_NAME:
		if (!*arg || strlen(arg) > 64 || strpbrk(arg, "/ \t\n"))
			return run_opt_error("--name '%s': use 1-64 characters without '/' or spaces", arg);
		o->name = arg;
		return 0;
	case OPT_CPUS:
		if (cli_parse_uint(arg, 1, VM_MAX_CPUS, &o->cpus))
			return run_opt_error("--cpus '%s': give a whole number from 1 to 255", arg);
		return 0;
	case OPT_MEMORY:
		if (cli_parse_size(arg, &o->memory) || o->memory == 0)
			return run_opt_error("--memory '%s': give a size above zero such as 256M or 2G", arg);
		if (o->memory < RUN_MIN_MEMORY)
			return run_opt_error("--memory '%s': give at least 2M", arg);
		if (o->memory & 0xfff)
			return run_opt_error("--memory '%s': give a whole number of 4 KiB pages", arg);
		return 0;
	default:
		return -EINVAL;
	}
}

/* Options that make no sense twice (a second one would silently win). */
static bool once_only(int c)
{
	return c == OPT_KERNEL || c == OPT_INITRD || c == OPT_CMDLINE || c == OPT_CPUS || c == OPT_MEMORY ||
	       c == OPT_NAME || c == OPT_JAIL_USER;
}

int run_parse_opts(int argc, char **argv, struct run_opts *o)
{
	unsigned seen = 0;	/* bit c - OPT_KERNEL: a once_only option was given */
	int c, err, cur, li;

	*o = (struct run_opts){
		.cmdline = RUN_DEFAULT_CMDLINE, .name = "vm", .cpus = 1, .memory = RUN_DEFAULT_MEMORY,
	};
	optind = 0;	/* glibc: a full reset, so the parser can run more than once */
	opterr = 0;
	for (;;) {
		cur = optind ? optind : 1;
		li = -1;
		c = getopt_long(argc, argv, "+:h", run_longopts, &li);
		if (c == -1)
			break;
		if (li >= 0 && cur < argc && !cli_spelled_out(argv[cur], &run_longopts[li]))
			return run_opt_error("'%s': spell the option out: --%s", argv[cur], run_longopts[li].name);
		if (c == 'h') {
			fputs(run_usage, stdout);
			return 1;
		}
		if (c == '?' || c == ':') {
			fprintf(stderr, "sluice run: %s '%s'\n", c == ':' ? "missing value for" : "unknown option",
				argv[optind - 1]);
			fputs(run_usage, stderr);
			return -EINVAL;
		}
		if (once_only(c)) {
			if (seen & (1u << (c - OPT_KERNEL)))
				return run_opt_error("--%s given twice: give it once", run_longopts[li].name);
			seen |= 1u << (c - OPT_KERNEL);
		}
		err = set_opt(o, c, optarg);
		if (err)
			return err;
	}
	if (optind < argc)
		return run_opt_error("unexpected argument '%s'", argv[optind]);
	if (!o->kernel)
		return run_opt_error("no kernel: give --kernel BZIMAGE");
	if (o->no_jail && o->jail_user)
		return run_opt_error("--jail-user and --no-jail contradict each other: give one");
	if (o->hugepages && (o->memory & ((2ull << 20) - 1)))
		return run_opt_error("--memory must be a multiple of 2M with --hugepages");
	if (o->viommu && o->nr_assign + o->nr_vfs == 0)
		return run_opt_error("--viommu puts the assigned devices behind a virtio-iommu, and "
				     "none is given: add --assign or --net vf:");
	return 0;
}
