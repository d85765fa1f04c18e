package io.tally.realtime;

import io.tally.event.Event;

import java.time.Duration;

/**
 * Which committed events the live views count (the per-minute Redis counters behind {@code /v1/realtime}, the
 * dashboard's live stream and tail): events that happened at most {@link #WINDOW} before they were received. Those
 * views answer "what is happening now", by receipt time; an event whose own time is older (a back-fill, an import,
 * a device's offline queue flushed hours later) is history arriving late: it is stored and counted at its own time
 * by every other figure, but it would read as a burst of activity in the minute it arrived. The window is the live
 * views' own span (their last hour), so an event they leave out could not have been drawn in its own minute anyway.
 */
public final class LiveWindow {
  /** The live views' span: {@code /v1/realtime} covers the last 60 minutes. */
  public static final Duration WINDOW = Duration.ofMinutes(RealtimeQuery.WINDOW_MINUTES);

  private LiveWindow() {
  }

  /** Whether the live views count this event: not a bot, and its time no more than the window before its receipt. */
  public static boolean counts(Event e) {
    if (e.bot()) {
      return false;
    }
    return e.receivedAt() == null || !e.timestamp().isBefore(e.receivedAt().minus(WINDOW));
  }
}
