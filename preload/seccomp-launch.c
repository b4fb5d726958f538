/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seccomp-launch.h"
#include "transport/transport.h"
#include "wire/packet.h"
#include "wire/trust.h"
#include "wire/wire.h"

#if defined(__x86_64__)
#define FILTER_ARCH AUDIT_ARCH_X86_64
#define X32_BIT	    0x40000000u /* x32 system calls: another ABI */
#elif defined(__aarch64__)
#define FILTER_ARCH AUDIT_ARCH_AARCH64
#endif

#define LOW_ARG(i) (offsetof(struct seccomp_data, args) + 8 * (i)) /* little-endian */

static pid_t child_pid;

static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

#ifdef FILTER_ARCH
/*
 * Traps open, openat, openat2, close, exit_group, execve, execveat, ioctl with a Binder or terminal request number
 * (type 'b' or 'T' in the low 32 bits, as the kernel reads the request) and mmap without
 * MAP_ANONYMOUS; allows everything else; kills the process for a system
 * call of another ABI.
 */
static int install_filter(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FILTER_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef X32_BIT
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_BIT, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
#endif
#ifdef SYS_open
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_open, 15, 0),
#else
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 15, 0),
#endif
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 14, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 13, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close, 12, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit_group, 11, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execve, 10, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execveat, 9, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 5, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* ioctl: the request's type byte, Binder's or the terminal one's */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LOW_ARG(1)),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xff00),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 'b' << 8, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 'T' << 8, 2, 3),
		/* mmap: file-backed only */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LOW_ARG(3)),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, MAP_ANONYMOUS, 1, 0),
		/* notify */
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
			    &prog);
}
#else
static int install_filter(void)
{
	errno = ENOSYS;
	return -1;
}
#endif

static int recv_fd(int sock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	int fd = -1;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

/* In the child: the filter, then the program. Never returns. */
static void run_child(int pair, pid_t parent, pid_t daemon, char **argv)
{
	int listener;
	char go;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(126);
	/* Under Yama's restricted ptrace, the daemon may read this program (not its children). */
	if (daemon > 0)
		(void)prctl(PR_SET_PTRACER, (unsigned long)daemon, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		fprintf(stderr, "ubinder-run: no_new_privs: %s\n", strerror(errno));
		_exit(126);
	}
	listener = install_filter();
	if (listener < 0) {
		fprintf(stderr, "ubinder-run: seccomp filter with a listener: %s\n",
			strerror(errno));
		_exit(126);
	}
	if (ubw_send_packet(pair, &(struct iovec){ (void *)"L", 1 }, 1, &listener, 1,
			    MSG_NOSIGNAL) < 0)
		_exit(126);
	close(listener);
	/* The daemon serves the listener from here on. */
	if (read(pair, &go, 1) != 1)
		_exit(126);
	close(pair);
	execvp(argv[0], argv);
	fprintf(stderr, "ubinder-run: %s: %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* Hands the listener to the daemon on @sock: 0, or the daemon's negative errno. */
static int hand_over(int sock, int listener)
{
	struct ubw_seccomp req = { .hdr = { UBW_SECCOMP, 0 },
				   .magic = UBW_MAGIC,
				   .version = UBW_PROTOCOL_VERSION };
	struct ubw_header reply;
	struct iovec iov = { &req, sizeof(req) };
	ssize_t n = ubw_send_packet(sock, &iov, 1, &listener, 1, MSG_NOSIGNAL);

	if (n < 0)
		return -errno;
	if (recv(sock, &reply, sizeof(reply), 0) != sizeof(reply))
		return -EPROTO;
	if (reply.type != (UBW_SECCOMP | UBW_REPLY))
		return -EPROTO;
	return reply.error;
}

/* Every process under the launcher (it is their subreaper), killed. */
static void kill_descendants(pid_t pid, int depth)
{
	char path[64];
	FILE *f;
	int child;

	if (depth > 64)
		return;
	kill(pid, SIGKILL);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fscanf(f, "%d", &child) == 1)
		kill_descendants(child, depth + 1);
	fclose(f);
}

static int exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 126;
}

/* Waits for the program, or for the daemon's end of @sock to close. */
static int supervise(int sock, char *name)
{
	int pidfd = (int)syscall(SYS_pidfd_open, child_pid, 0);
	struct pollfd p[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = sock, .events = 0 } };
	int status;

	for (;;) {
		if (pidfd >= 0 && poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (pidfd < 0 || (p[0].revents & POLLIN))
			break;
		/* The daemon also hangs up when the last process under the filter
		 * is gone: the program's exit may just not be seen yet. */
		if ((p[1].revents & (POLLHUP | POLLERR)) && poll(p, 1, 1000) == 0) {
			fprintf(stderr, "ubinder-run: the daemon went away: %s is stopped\n", name);
			kill_descendants(child_pid, 0);
			break;
		}
	}
	while (waitpid(child_pid, &status, 0) < 0) {
		if (errno != EINTR)
			return 126;
	}
	if (pidfd >= 0)
		close(pidfd);
	return exit_status(status);
}

int seccomp_launch(char **argv)
{
	static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	const char *dir = getenv("UBINDER_SOCKET_DIR");
	char path[108];
	int pair[2], sock, listener, err;
	struct ucred daemon = { 0 };
	pid_t parent = getpid();

	if (dir && *dir)
		snprintf(path, sizeof(path), "%s/binder", dir);
	else
		ubt_default_socket("binder", path, sizeof(path));
	sock = ubw_connect_trusted(&ubw_trust_libc, path);
	if (sock < 0) {
		fprintf(stderr, "ubinder-run: %s: %s\n", path, strerror(-sock));
		return 126;
	}
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &daemon, &(socklen_t){ sizeof(daemon) }) < 0)
		daemon.pid = 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
		perror("ubinder-run: socketpair");
		return 126;
	}
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	child_pid = fork();
	if (child_pid < 0) {
		perror("ubinder-run: fork");
		return 126;
	}
	if (child_pid == 0) {
		close(sock);
		close(pair[0]);
		run_child(pair[1], parent, daemon.pid, argv);
	}
	close(pair[1]);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		signal(forwarded[i], forward_signal);
	listener = recv_fd(pair[0]);
	err = listener < 0 ? -EPROTO : hand_over(sock, listener);
	if (listener >= 0)
		close(listener);
	if (err || write(pair[0], "G", 1) != 1) {
		if (err)
			fprintf(stderr,
				"ubinder-run: the daemon refused the seccomp listener: %s\n",
				strerror(-err));
		kill(child_pid, SIGKILL);
		waitpid(child_pid, NULL, 0);
		return 126;
	}
	close(pair[0]);
	return supervise(sock, argv[0]);
}
