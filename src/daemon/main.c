/* SPDX-License-Identifier: MIT */
/* ubinderd: the Binder driver daemon. See `ubinderd --help` and docs/. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "daemon/daemon.h"

int main(int argc, char **argv)
{
	struct daemon_config cfg;
	struct daemon d;
	int ret;

	ret = config_parse(&cfg, argc, argv);
	if (ret != 0)
		return ret > 0 ? 0 : 2;
	/*
	 * Not dumpable: /proc/<daemon>/fd, /mem and ptrace are closed to
	 * processes of the daemon's uid (root keeps CAP_SYS_PTRACE), so none can
	 * reach the regions of other processes through the daemon's descriptors
	 * or its memory. The daemon's own reopen through /proc/self/fd still works.
	 */
	if (!cfg.dumpable && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		fprintf(stderr, "ubinderd: cannot make the daemon non-dumpable: %s\n",
			strerror(errno));
		return 1;
	}
	if (daemon_init(&d, &cfg) < 0) {
		daemon_deinit(&d);
		return 1;
	}
	ret = daemon_run(&d);
	daemon_deinit(&d);
	return ret;
}
