/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "daemon/poll_pair.h"

void poll_pair_signal(int fd, int drain, bool *set, bool readable, const char *what)
{
	char byte = 1, buf[16];

	if (fd < 0 || *set == readable)
		return;
	*set = readable;
	if (readable) {
		if (send(fd, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN)
			log_warning("%s: %s", what, strerror(errno));
	} else {
		while (recv(drain, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
	}
}
