/*
 * sluice: `sluice vf list|create|destroy|set`: SR-IOV PFs and their VFs, with
 * ip-link habits. The model and the rtnetlink calls are sriov/'s; this file
 * parses, checks every argument before the first change, and prints.
 */
#include <errno.h>
#include <jansson.h>
#include <linux/if_link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sriov/sriov.h"
#include "vfio/bind.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/commands.h"
#include "vmm/cli/run.h"
#include "vmm/log.h"

#define SYSFS "/sys"

static const char vf_usage[] =
	"usage: sluice vf list [PF] [--json]\n"
	"       sluice vf create PF N\n"
	"       sluice vf destroy PF\n"
	"       sluice vf set PF VF [mac=MAC] [vlan=N[,qos=Q]] [spoofchk=on|off] [trust=on|off]\n"
	"                           [rate=MBPS] [state=auto|enable|disable]\n"
	"\n"
	"SR-IOV virtual functions. PF is the physical function's interface (enp1s0)\n"
	"or PCI address (0000:01:00.0); VF is its VF number (0, 1, ...).\n"
	"  list     each SR-IOV PF (interface, address, driver, VFs), each VF's address,\n"
	"           driver or interface, MAC, VLAN, spoofchk, trust, rate, and the VM\n"
	"           (sluice pid) that holds it\n"
	"  create   make N VFs (the PF must have none: the kernel changes the count only from 0)\n"
	"  destroy  remove every VF of PF (refused while a VM holds one)\n"
	"  set      change VF settings, as 'ip link set PF vf VF ...' (rate = max TX Mbps,\n"
	"           0 for none); all are checked before the first is applied\n"
	"'sluice run --net vf:PF' takes a free VF for one run and gives everything back.\n";

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("sluice vf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(see 'sluice vf --help')\n", stderr);
	return SLUICE_EXIT_USAGE;
}

static int resolve(const char *spec, struct sriov_pf *pf)
{
	char why[HOSTPCI_WHY_LEN];

	if (sriov_pf_resolve(SYSFS, spec, pf, why, sizeof(why))) {
		pr_err("%s", why);
		return SLUICE_EXIT_USAGE;
	}
	return 0;
}

static void mac_str(const uint8_t m[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static const char *onoff(int v)
{
	return v < 0 ? "-" : v ? "on" : "off";
}

static json_t *int_or_null(int v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

static json_t *vf_json(const struct sriov_vf *v, const struct sriov_vf_info *vi)
{
	json_t *o = json_object(), *h = json_null();
	char mac[18];

	json_object_set_new(o, "index", json_integer(v->index));
	json_object_set_new(o, "bdf", json_string(v->bdf));
	json_object_set_new(o, "driver", v->driver[0] ? json_string(v->driver) : json_null());
	json_object_set_new(o, "netdev", v->netdev[0] ? json_string(v->netdev) : json_null());
	if (vi && vi->has_mac)
		mac_str(vi->mac, mac);
	json_object_set_new(o, "mac", vi && vi->has_mac ? json_string(mac) : json_null());
	json_object_set_new(o, "vlan", int_or_null(vi ? vi->vlan : -1));
	json_object_set_new(o, "qos", int_or_null(vi ? vi->qos : -1));
	json_object_set_new(o, "spoofchk", vi && vi->spoofchk >= 0 ? json_boolean(vi->spoofchk) : json_null());
	json_object_set_new(o, "trust", vi && vi->trust >= 0 ? json_boolean(vi->trust) : json_null());
	json_object_set_new(o, "max_tx_rate", int_or_null(vi ? vi->max_rate : -1));
	json_object_set_new(o, "min_tx_rate", int_or_null(vi ? vi->min_rate : -1));
	if (v->holder) {
		h = json_object();
		json_object_set_new(h, "pid", json_integer(v->holder));
		json_object_set_new(h, "vm", json_string(v->vm));
		json_object_set_new(h, "alive", json_boolean(v->holder_alive));
	}
	json_object_set_new(o, "held_by", h);
	return o;
}

static void vf_text(const struct sriov_vf *v, const struct sriov_vf_info *vi)
{
	char mac[18] = "-", vlan[16] = "-", rate[16] = "-", held[128] = "-";

	if (vi && vi->has_mac)
		mac_str(vi->mac, mac);
	if (vi && vi->vlan >= 0)
		snprintf(vlan, sizeof(vlan), vi->qos > 0 ? "%d,qos=%d" : "%d", vi->vlan, vi->qos);
	if (vi && vi->max_rate >= 0)
		snprintf(rate, sizeof(rate), "%d", vi->max_rate);
	if (v->holder)
		snprintf(held, sizeof(held), "VM '%s' (pid %d%s)", v->vm, (int)v->holder,
			 v->holder_alive ? "" : ", dead: run 'sluice release'");
	printf("  %-3u %-13s %-9s %-9s %-17s %-9s %-8s %-5s %-6s %s\n", v->index, v->bdf,
	       v->driver[0] ? v->driver : "-", v->netdev[0] ? v->netdev : "-", mac, vlan,
	       onoff(vi ? vi->spoofchk : -1), onoff(vi ? vi->trust : -1), rate, held);
}

/* One PF and its VFs, as text or into @arr. */
static void list_pf(const struct sriov_pf *pf, struct sriov_nl *nl, json_t *arr)
{
	struct sriov_link l;
	struct sriov_vf vfs[SRIOV_MAX_VFS];
	int n = sriov_vf_list(SYSFS, BIND_RUNDIR, pf, vfs, SRIOV_MAX_VFS), i;
	bool have_link = nl && pf->ifname[0] && !sriov_pf_read_link(nl, pf, &l);
	json_t *o, *jv;

	if (arr) {
		o = json_object();
		json_object_set_new(o, "bdf", json_string(pf->bdf));
		json_object_set_new(o, "ifname", pf->ifname[0] ? json_string(pf->ifname) : json_null());
		json_object_set_new(o, "driver", pf->driver[0] ? json_string(pf->driver) : json_null());
		json_object_set_new(o, "numvfs", json_integer(pf->numvfs));
		json_object_set_new(o, "totalvfs", json_integer(pf->totalvfs));
		jv = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(jv, vf_json(&vfs[i], have_link ? sriov_link_vf(&l, vfs[i].index) : NULL));
		json_object_set_new(o, "vfs", jv);
		json_array_append_new(arr, o);
		return;
	}
	printf("%s %s driver %s, %u of %u VFs\n", pf->bdf, pf->ifname[0] ? pf->ifname : "(no netdev)",
	       pf->driver[0] ? pf->driver : "-", pf->numvfs, pf->totalvfs);
	if (n > 0)
		printf("  %-3s %-13s %-9s %-9s %-17s %-9s %-8s %-5s %-6s %s\n", "VF", "BDF", "DRIVER",
		       "NETDEV", "MAC", "VLAN", "SPOOFCHK", "TRUST", "RATE", "HELD BY");
	for (i = 0; i < n; i++)
		vf_text(&vfs[i], have_link ? sriov_link_vf(&l, vfs[i].index) : NULL);
}

static int vf_list(int argc, char **argv)
{
	struct sriov_pf pfs[16];
	const char *spec = NULL;
	struct sriov_nl nl;
	bool json = false, have_nl;
	json_t *arr = NULL;
	int i, n, rc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (argv[i][0] == '-' || spec)
			return usage_error("list: unexpected '%s'", argv[i]);
		else
			spec = argv[i];
	}
	if (spec) {
		if ((rc = resolve(spec, &pfs[0])))
			return rc;
		n = 1;
	} else if ((n = sriov_pf_list(SYSFS, pfs, 16)) < 0) {
		pr_err("%s/bus/pci/devices: %s", SYSFS, strerror(-n));
		return SLUICE_EXIT_FAIL;
	}
	have_nl = !sriov_nl_open(&nl);
	if (json)
		arr = json_array();
	else if (!n)
		printf("no SR-IOV PF on this host\n");
	for (i = 0; i < n; i++)
		list_pf(&pfs[i], have_nl ? &nl : NULL, arr);
	if (have_nl)
		sriov_nl_close(&nl);
	if (json) {
		rc = json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
		putchar('\n');
		json_decref(arr);
		return rc ? SLUICE_EXIT_FAIL : SLUICE_EXIT_OK;
	}
	return SLUICE_EXIT_OK;
}

/* A VF of @pf that a sluice record names, or NULL. */
static const struct sriov_vf *held_vf(const struct sriov_pf *pf, struct sriov_vf *vfs)
{
	int n = sriov_vf_list(SYSFS, BIND_RUNDIR, pf, vfs, SRIOV_MAX_VFS), i;

	for (i = 0; i < n; i++)
		if (vfs[i].holder)
			return &vfs[i];
	return NULL;
}

static int vf_create(int argc, char **argv)
{
	struct sriov_pf pf;
	unsigned long n;
	int rc, lock;

	if (argc != 3)
		return usage_error("create takes PF and N");
	if ((rc = resolve(argv[1], &pf)))
		return rc;
	if (cli_parse_uint(argv[2], 1, 0xffff, &n) || n > pf.totalvfs) {
		pr_err("%s (%s): %s VFs: give 1 to %u (its sriov_totalvfs)", pf.bdf, argv[1], argv[2],
		       pf.totalvfs);
		return SLUICE_EXIT_USAGE;
	}
	if (pf.numvfs) {
		pr_err("%s (%s) already has %u VFs, and the kernel changes the count only from 0: 'sluice vf destroy %s' first",
		       pf.bdf, argv[1], pf.numvfs, argv[1]);
		return SLUICE_EXIT_USAGE;
	}
	if ((lock = sriov_pf_lock(BIND_RUNDIR, pf.bdf)) < 0) {
		pr_err("%s: cannot lock it under %s: %s", pf.bdf, BIND_RUNDIR, strerror(-lock));
		return SLUICE_EXIT_FAIL;
	}
	rc = sriov_set_numvfs(SYSFS, &pf, (unsigned)n);
	sriov_pf_unlock(lock);
	if (rc)
		return SLUICE_EXIT_FAIL;
	printf("%s (%s): %lu VFs created\n", pf.bdf, argv[1], n);
	return SLUICE_EXIT_OK;
}

static int vf_destroy(int argc, char **argv)
{
	struct sriov_vf vfs[SRIOV_MAX_VFS];
	const struct sriov_vf *h;
	struct sriov_pf pf;
	int rc, lock;

	if (argc != 2)
		return usage_error("destroy takes one PF");
	if ((rc = resolve(argv[1], &pf)))
		return rc;
	if ((lock = sriov_pf_lock(BIND_RUNDIR, pf.bdf)) < 0) {
		pr_err("%s: cannot lock it under %s: %s", pf.bdf, BIND_RUNDIR, strerror(-lock));
		return SLUICE_EXIT_FAIL;
	}
	if ((h = held_vf(&pf, vfs))) {
		pr_err("%s (%s): VF %u (%s) is held by VM '%s' (sluice pid %d%s): stop that VM first",
		       pf.bdf, argv[1], h->index, h->bdf, h->vm, (int)h->holder,
		       h->holder_alive ? "" : ", dead: run 'sluice release'");
		sriov_pf_unlock(lock);
		return SLUICE_EXIT_USAGE;
	}
	rc = sriov_set_numvfs(SYSFS, &pf, 0);
	sriov_pf_unlock(lock);
	if (rc)
		return SLUICE_EXIT_FAIL;
	printf("%s (%s): VFs removed (was %u)\n", pf.bdf, argv[1], pf.numvfs);
	return SLUICE_EXIT_OK;
}

static int parse_onoff(const char *v, bool *on)
{
	if (!strcmp(v, "on"))
		*on = true;
	else if (!strcmp(v, "off"))
		*on = false;
	else
		return -EINVAL;
	return 0;
}

/* vlan=N[,qos=Q] */
static int parse_vlan(const char *v, struct sriov_vf_set *s)
{
	unsigned long vlan, qos = 0;
	char num[16];
	const char *comma = strchr(v, ',');
	size_t len = comma ? (size_t)(comma - v) : strlen(v);

	if (len >= sizeof(num))
		return -EINVAL;
	memcpy(num, v, len);
	num[len] = '\0';
	if (cli_parse_uint(num, 0, 4095, &vlan))
		return -EINVAL;
	if (comma && (strncmp(comma, ",qos=", 5) || cli_parse_uint(comma + 5, 0, 7, &qos)))
		return -EINVAL;
	s->vlan = (unsigned)vlan;
	s->qos = (unsigned)qos;
	return 0;
}

/* One KEY=VALUE of `vf set` into @s; a message and -EINVAL for a bad one. */
static int parse_setting(const char *arg, unsigned vf, struct sriov_vf_set *s)
{
	const char *v = strchr(arg, '=');
	unsigned long rate;
	bool on;

	*s = (struct sriov_vf_set){ .vf = vf };
	if (!v)
		return usage_error("'%s': settings are KEY=VALUE (mac, vlan, spoofchk, trust, rate, state)", arg);
	v++;
	if (!strncmp(arg, "mac=", 4)) {
		s->what = SRIOV_SET_MAC;
		if (run_parse_mac(v, s->mac))
			return usage_error("bad mac '%s': give six hex octets such as 02:00:00:12:34:56, not a multicast or zero address", v);
	} else if (!strncmp(arg, "vlan=", 5)) {
		s->what = SRIOV_SET_VLAN;
		if (parse_vlan(v, s))
			return usage_error("bad vlan '%s': give 0-4095 (0: none), optionally ,qos=0-7", v);
	} else if (!strncmp(arg, "spoofchk=", 9) || !strncmp(arg, "trust=", 6)) {
		s->what = arg[0] == 's' ? SRIOV_SET_SPOOFCHK : SRIOV_SET_TRUST;
		if (parse_onoff(v, &on))
			return usage_error("'%s': give on or off", arg);
		s->on = on;
	} else if (!strncmp(arg, "rate=", 5)) {
		s->what = SRIOV_SET_RATE;
		if (cli_parse_uint(v, 0, 1000000, &rate))
			return usage_error("bad rate '%s': the maximum TX rate in Mbps, 0 for none", v);
		s->max_rate = (unsigned)rate;
	} else if (!strncmp(arg, "state=", 6)) {
		s->what = SRIOV_SET_LINK_STATE;
		if (!strcmp(v, "auto"))
			s->link_state = IFLA_VF_LINK_STATE_AUTO;
		else if (!strcmp(v, "enable"))
			s->link_state = IFLA_VF_LINK_STATE_ENABLE;
		else if (!strcmp(v, "disable"))
			s->link_state = IFLA_VF_LINK_STATE_DISABLE;
		else
			return usage_error("bad state '%s': give auto, enable or disable", v);
	} else {
		return usage_error("unknown setting '%s': use mac, vlan, spoofchk, trust, rate or state", arg);
	}
	return 0;
}

/* The setting @s as it was in @vi, to undo a partly applied `vf set`; false when unknown. */
static bool old_value(const struct sriov_vf_set *s, const struct sriov_vf_info *vi,
		      struct sriov_vf_set *old)
{
	*old = *s;
	switch (s->what) {
	case SRIOV_SET_MAC:
		memcpy(old->mac, vi->mac, 6);
		return vi->has_mac;
	case SRIOV_SET_VLAN:
		old->vlan = vi->vlan > 0 ? (unsigned)vi->vlan : 0, old->qos = vi->qos > 0 ? (unsigned)vi->qos : 0;
		return vi->vlan >= 0;
	case SRIOV_SET_SPOOFCHK:
		old->on = vi->spoofchk == 1;
		return vi->spoofchk >= 0;
	case SRIOV_SET_TRUST:
		old->on = vi->trust == 1;
		return vi->trust >= 0;
	case SRIOV_SET_RATE:
		old->min_rate = vi->min_rate > 0 ? (unsigned)vi->min_rate : 0;
		old->max_rate = vi->max_rate > 0 ? (unsigned)vi->max_rate : 0;
		return vi->max_rate >= 0;
	case SRIOV_SET_LINK_STATE:
		old->link_state = (unsigned)vi->link_state;
		return vi->link_state >= 0;
	}
	return false;
}

static int apply_all(struct sriov_nl *nl, const struct sriov_pf *pf, struct sriov_vf_set *set,
		     unsigned n)
{
	struct sriov_link l;
	const struct sriov_vf_info *vi;
	struct sriov_vf_set old;
	unsigned i;
	int err;

	if (sriov_pf_read_link(nl, pf, &l))
		return SLUICE_EXIT_FAIL;
	if (!(vi = sriov_link_vf(&l, set[0].vf))) {
		pr_err("%s (%s) VF %u: the driver reports no settings for it", pf->bdf, pf->ifname, set[0].vf);
		return SLUICE_EXIT_FAIL;
	}
	for (i = 0; i < n; i++) {
		if (set[i].what == SRIOV_SET_RATE)
			set[i].min_rate = vi->min_rate > 0 ? (unsigned)vi->min_rate : 0;
		if ((err = sriov_vf_apply(nl, pf, &set[i])))
			break;
	}
	if (i == n)
		return SLUICE_EXIT_OK;
	while (i-- > 0)		/* a refusal leaves the VF as it was */
		if (old_value(&set[i], vi, &old))
			sriov_vf_apply(nl, pf, &old);
	return err == -EINVAL || err == -EOPNOTSUPP || err == -ERANGE ? SLUICE_EXIT_USAGE
								       : SLUICE_EXIT_FAIL;
}

static int vf_set(int argc, char **argv)
{
	struct sriov_vf_set set[8];
	struct sriov_nl nl;
	struct sriov_pf pf;
	unsigned long vf;
	int i, rc, err;

	if (argc < 4 || argc - 3 > 8)
		return usage_error("set takes PF, VF and 1 to 8 settings");
	if ((rc = resolve(argv[1], &pf)))
		return rc;
	if (cli_parse_uint(argv[2], 0, 0xffff, &vf) || vf >= pf.numvfs) {
		if (pf.numvfs)
			pr_err("%s (%s): VF '%s' out of range: it has %u VFs (0-%u)", pf.bdf, argv[1], argv[2],
			       pf.numvfs, pf.numvfs - 1);
		else
			pr_err("%s (%s): VF '%s' out of range: it has no VFs ('sluice vf create %s N')",
			       pf.bdf, argv[1], argv[2], argv[1]);
		return SLUICE_EXIT_USAGE;
	}
	for (i = 3; i < argc; i++)
		if (parse_setting(argv[i], (unsigned)vf, &set[i - 3]))
			return SLUICE_EXIT_USAGE;
	if (!pf.ifname[0]) {
		pr_err("%s: the PF has no network interface (driver '%s'): bind it to its NIC driver first",
		       pf.bdf, pf.driver[0] ? pf.driver : "none");
		return SLUICE_EXIT_USAGE;
	}
	if ((err = sriov_nl_open(&nl))) {
		pr_err("%s: rtnetlink: %s", pf.bdf, strerror(-err));
		return SLUICE_EXIT_FAIL;
	}
	rc = apply_all(&nl, &pf, set, (unsigned)(argc - 3));
	sriov_nl_close(&nl);
	return rc;
}

int cmd_vf(int argc, char **argv)
{
	if (argc < 2) {
		fputs(vf_usage, stderr);
		return SLUICE_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(vf_usage, stdout);
		return SLUICE_EXIT_OK;
	}
	if (!strcmp(argv[1], "list"))
		return vf_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "create"))
		return vf_create(argc - 1, argv + 1);
	if (!strcmp(argv[1], "destroy"))
		return vf_destroy(argc - 1, argv + 1);
	if (!strcmp(argv[1], "set"))
		return vf_set(argc - 1, argv + 1);
	return usage_error("unknown subcommand '%s': list, create, destroy or set", argv[1]);
}
