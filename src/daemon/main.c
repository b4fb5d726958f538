/* SPDX-License-Identifier: MIT */
/* ubinderd: the Binder driver daemon. See `ubinderd --help` and docs/. */
#include <stdio.h>

#include "daemon/daemon.h"

int main(int argc, char **argv)
{
	struct daemon_config cfg;
	struct daemon d;
	int ret;

	ret = config_parse(&cfg, argc, argv);
	if (ret != 0)
		return ret > 0 ? 0 : 2;
	if (daemon_init(&d, &cfg) < 0) {
		daemon_deinit(&d);
		return 1;
	}
	ret = daemon_run(&d);
	daemon_deinit(&d);
	return ret;
}
