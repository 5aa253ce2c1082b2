/* sluice: `sluice driver-vm run|status`, a thin layer over sandbox/drivervm. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vmm/cli/cli.h"
#include "vmm/cli/commands.h"
#include "vmm/cli/driver_vm.h"
#include "vmm/log.h"

static bool alive(json_int_t pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

static void print_one(json_t *o)
{
	json_t *last = json_object_get(o, "last_failure"), *vms = json_object_get(o, "driver_vms"), *v;
	json_int_t pid = json_integer_value(json_object_get(o, "pid"));
	size_t i;

	printf("%s: supervisor pid %lld%s, restarts %lld, failovers %lld", json_string_value(json_object_get(o, "bridge")),
	       (long long)pid, alive(pid) ? "" : " (gone: run 'sluice release')",
	       (long long)json_integer_value(json_object_get(o, "restarts")),
	       (long long)json_integer_value(json_object_get(o, "failovers")));
	if (last)
		printf(", last failure: %s of %s (%lld ms after its last sign of life)",
		       json_string_value(json_object_get(last, "kind")),
		       json_string_value(json_object_get(last, "driver_vm")),
		       (long long)json_integer_value(json_object_get(last, "detection_ms")));
	if (json_object_get(o, "last_outage_ms"))
		printf(", last outage %lld ms", (long long)json_integer_value(json_object_get(o, "last_outage_ms")));
	printf("\n");
	json_array_foreach(vms, i, v)
		printf("  %-12s %-8s %-8s %s (%s) VMM pid %lld, boots %lld\n",
		       json_string_value(json_object_get(v, "name")), json_string_value(json_object_get(v, "role")),
		       json_string_value(json_object_get(v, "state")), json_string_value(json_object_get(v, "bdf")),
		       json_string_value(json_object_get(v, "device")),
		       (long long)json_integer_value(json_object_get(v, "vmm_pid")),
		       (long long)json_integer_value(json_object_get(v, "boots")));
}

/* Every supervisor's state file (or BRIDGE's), printed or as one JSON array. */
static int status(int argc, char **argv)
{
	const char *want = NULL;
	json_t *all = json_array(), *o;
	struct dirent *e;
	bool as_json = false;
	char path[512];
	size_t k;
	DIR *d;
	int i, status;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			as_json = true;
		else if (argv[i][0] != '-' && !want)
			want = argv[i];
		else {
			fprintf(stderr, "sluice driver-vm status: unexpected argument '%s'\n%s", argv[i], dvm_usage_text());
			json_decref(all);
			return SLUICE_EXIT_USAGE;
		}
	}
	d = opendir(DVM_RUNDIR);
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n < 6 || strcmp(e->d_name + n - 5, ".json") ||
		    (want && (n - 5 != strlen(want) || strncmp(e->d_name, want, n - 5))))
			continue;
		snprintf(path, sizeof(path), "%s/%s", DVM_RUNDIR, e->d_name);
		if (!(o = json_load_file(path, 0, NULL)))
			continue;
		json_object_set_new(o, "running", json_boolean(alive(json_integer_value(json_object_get(o, "pid")))));
		json_array_append_new(all, o);
	}
	if (d)
		closedir(d);
	if (as_json) {
		json_dumpf(all, stdout, JSON_INDENT(2));
		printf("\n");
	} else if (!json_array_size(all)) {
		printf(want ? "no driver-VM supervisor serves bridge %s\n" : "no driver-VM supervisor is running\n", want);
	}
	json_array_foreach(all, k, o)
		if (!as_json)
			print_one(o);
	status = want && !json_array_size(all) ? SLUICE_EXIT_FAIL : SLUICE_EXIT_OK;
	json_decref(all);
	return status;
}

int cmd_driver_vm(int argc, char **argv)
{
	struct dvm_config c;
	int err;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(dvm_usage_text(), argc < 2 ? stderr : stdout);
		return argc < 2 ? SLUICE_EXIT_USAGE : SLUICE_EXIT_OK;
	}
	if (!strcmp(argv[1], "status"))
		return status(argc - 1, argv + 1);
	if (strcmp(argv[1], "run")) {
		fprintf(stderr, "sluice driver-vm: unknown command '%s': use run or status\n", argv[1]);
		return SLUICE_EXIT_USAGE;
	}
	err = dvm_parse_opts(argc - 1, argv + 1, &c);
	if (err)
		return err > 0 ? SLUICE_EXIT_OK : SLUICE_EXIT_USAGE;
	return dvm_supervise(&c);
}
