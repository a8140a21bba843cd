/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Following PC/SC readers and cards (pcsc-lite) without polling, for the
 * helpers that need to know: the PC/SC watcher and the PIV helper.  One
 * thread waits in SCardGetStatusChange with no time-out; with no pcscd it
 * waits for pcscd's socket to appear (inotify), not in a loop; it
 * survives pcscd restarts.
 */
#ifndef TOKEN_PCSC_WATCH_H
#define TOKEN_PCSC_WATCH_H

enum pcsc_watch_event {
	PCSC_WATCH_STARTED,	/* connected to a pcscd (also again after it
				 * restarted), its readers' state learned */
	PCSC_WATCH_READERS,	/* readers came or went (state learned again) */
	PCSC_WATCH_CARD_IN,	/* a card was inserted in reader */
	PCSC_WATCH_CARD_OUT,	/* the card of reader was removed */
	PCSC_WATCH_CARD_OTHER,	/* reader's card changed otherwise (mute,
				 * another card between two looks) */
	PCSC_WATCH_GONE,	/* pcscd went away, and its cards with it */
};

/*
 * Called on the watch thread; reader (NULL for the events that concern no
 * one reader) is pcsc-lite's name, as the reader reported it.  Returns 0
 * to go on watching, nonzero to stop.
 */
typedef int pcsc_watch_cb(enum pcsc_watch_event ev, const char *reader,
    void *arg);

/* pcsc_watch_start: watch on a detached thread.  0 or -1 (logged). */
int pcsc_watch_start(pcsc_watch_cb *cb, void *arg);
/*
 * pcsc_watch_stop: end the watch (from another thread): wakes the watch
 * thread from its wait; cb is not called once it has returned.
 */
void pcsc_watch_stop(void);

#endif /* TOKEN_PCSC_WATCH_H */
