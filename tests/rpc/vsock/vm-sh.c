/* SPDX-License-Identifier: MIT */
/*
 * The binder VM runs one static program, as /prog: this one runs the
 * VM's busybox shell on its arguments (busybox itself, run as "prog",
 * would look for an applet of that name).
 */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	(void)argc;
	argv[0] = "sh";
	execv("/bin/sh", argv);
	perror("vm-sh: /bin/sh");
	return 127;
}
