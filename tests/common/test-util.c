/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test-util.h"

/*
 * The message both ends of an fd pass use: one byte of data and room for one
 * SCM_RIGHTS descriptor. It points into itself, so it is set up in place
 * (fd_msg_init) and never copied.
 */
struct fd_msg {
	char data;
	struct iovec iov;
	struct msghdr msg;
	/* Last: clang sizes CMSG_SPACE() like a variable-length array. */
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
};

static void fd_msg_init(struct fd_msg *m)
{
	m->data = 'F';
	m->iov = (struct iovec){ .iov_base = &m->data, .iov_len = 1 };
	m->msg = (struct msghdr){
		.msg_iov = &m->iov,
		.msg_iovlen = 1,
		.msg_control = m->ctl.buf,
		.msg_controllen = sizeof(m->ctl.buf),
	};
}

int test_send_fd(int sock, int fd)
{
	struct fd_msg m;
	struct cmsghdr *cmsg;

	fd_msg_init(&m);
	cmsg = CMSG_FIRSTHDR(&m.msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(sock, &m.msg, 0) == 1 ? 0 : -1;
}

int test_recv_fd(int sock)
{
	struct fd_msg m;
	struct cmsghdr *cmsg;
	int fd;

	fd_msg_init(&m);
	if (recvmsg(sock, &m.msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cmsg = CMSG_FIRSTHDR(&m.msg);
	if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

int test_run_child(int (*child)(void *arg), void *arg, int timeout_ms)
{
	pid_t pid = fork();
	int status = 0;
	int waited = 0;

	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(child(arg));
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (waited >= timeout_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		poll(NULL, 0, 5);
		waited += 5;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
