/* SPDX-License-Identifier: MIT */
/*
 * Todo lists and wake-ups: work is queued on a process's or a thread's todo
 * list, the thread that takes it is chosen and woken, and the process's poll
 * readiness follows (the kernel's binder_enqueue_*_work and binder_wakeup_*).
 * Nothing here frees or releases: it sits below every entity's module.
 */
#include "driver/todo.h"

void proc_poll_dirty(struct proc *proc)
{
	/* Evaluated lazily: cheap enough to do right away. */
	proc_poll_update(proc);
}

void proc_poll_update(struct proc *proc)
{
	bool readable;
	struct thread *thread;

	/* Readiness costs a scan of the threads with own work: only for
	 * processes that poll. */
	if (!proc->id.wants_poll)
		return;
	readable = !work_list_empty(&proc->todo);
	if (!readable) {
		/*
		 * Own work of a looper thread that is not inside an ioctl: a
		 * poller's. (A thread whose request runs sees that work before it
		 * returns; readiness meanwhile would outlive it, since the answer
		 * goes out before readiness is evaluated again.)
		 * (The kernel looks at the polling thread only; a non-looper's
		 * queue never makes a poller readable.)
		 */
		TAILQ_FOREACH(thread, &proc->todo_threads, todo_entry) {
			if (thread->bwr.phase == BWR_IDLE && !thread->bwr.running &&
			    (thread->looper & (LOOPER_ENTERED | LOOPER_REGISTERED))) {
				readable = true;
				break;
			}
		}
	}
	if (readable == proc->poll_readable || proc->is_dead)
		return;
	proc->poll_readable = readable;
	if (proc->driver->ops->poll_changed)
		proc->driver->ops->poll_changed(proc->session, readable);
}

void proc_enqueue_work(struct proc *proc, struct work *w)
{
	work_enqueue(&proc->todo, w);
	proc_poll_dirty(proc);
}

struct thread *proc_select_thread(struct proc *proc)
{
	struct thread *thread = TAILQ_FIRST(&proc->waiting_threads);

	if (thread) {
		TAILQ_REMOVE(&proc->waiting_threads, thread, waiting_entry);
		thread->on_waiting_list = false;
	}
	return thread;
}

void proc_wakeup_thread(struct proc *proc, struct thread *thread)
{
	if (thread)
		thread_wakeup(thread);
	else
		proc_poll_dirty(proc);
}

void proc_wakeup(struct proc *proc)
{
	proc_wakeup_thread(proc, proc_select_thread(proc));
}

void thread_enqueue_work(struct thread *thread, struct work *w)
{
	work_enqueue(&thread->todo, w);
	thread->process_todo = true;
	if (!thread->on_todo_threads && !thread->is_dead) {
		thread->on_todo_threads = true;
		TAILQ_INSERT_TAIL(&thread->proc->todo_threads, thread, todo_entry);
	}
	proc_poll_dirty(thread->proc);
}

void thread_leave_todo_threads(struct thread *thread)
{
	if (thread->on_todo_threads) {
		thread->on_todo_threads = false;
		TAILQ_REMOVE(&thread->proc->todo_threads, thread, todo_entry);
	}
}

void thread_todo_taken(struct thread *thread)
{
	thread->process_todo = false;
	thread_leave_todo_threads(thread);
}

void thread_enqueue_deferred_work(struct thread *thread, struct work *w)
{
	work_enqueue(&thread->todo, w);
}

void thread_set_return_error(struct thread *thread, uint32_t cmd)
{
	thread->return_error.cmd = cmd;
	thread_enqueue_work(thread, &thread->return_error.work);
}

bool thread_available_for_proc_work(const struct thread *thread)
{
	/*
	 * Not conditional on BC_ENTER_LOOPER/BC_REGISTER_LOOPER: since "binder:
	 * fix hang of unregistered readers" (2024, in 6.1 stable) a thread that
	 * never entered the looper takes process work too (kernel-facts.md 4).
	 */
	return !thread->transaction_stack && work_list_empty(&thread->todo);
}

bool thread_has_work(const struct thread *thread, bool do_proc_work)
{
	return thread->process_todo || thread->looper_need_return ||
	       (do_proc_work && !work_list_empty(&thread->proc->todo));
}

void thread_wakeup(struct thread *thread)
{
	struct driver *drv = thread->proc->driver;

	if (thread->bwr.phase != BWR_WAITING || thread->on_wake_list)
		return;
	TAILQ_INSERT_TAIL(&drv->wake_list, thread, wake_entry);
	thread->on_wake_list = true;
}
