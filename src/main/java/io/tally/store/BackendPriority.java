package io.tally.store;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.SqlConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Lowers the CPU priority of the PostgreSQL backend behind a connection ({@code renice}), for work that no
 * acknowledgement waits for. On two shared cores the derived-tables flush (a statement of 1–3 s under load) otherwise
 * takes a core from the ingest statements whose commits the clients wait for; at a lower priority it runs on what
 * they leave, and catches up when they pause. Only for a PostgreSQL on this machine whose backends are this user's
 * processes (the embedded one's are): an unprivileged user may renice its own processes down, never up or others'.
 */
public final class BackendPriority {
  private static final Logger LOG = LoggerFactory.getLogger(BackendPriority.class);

  private BackendPriority() {
  }

  /** A pool connect handler that renices each new connection's backend to {@code nice} (0: leaves it). */
  public static Handler<SqlConnection> lowered(Vertx vertx, int nice, String what) {
    return conn -> {
      int pid = PgConnection.cast(conn).processId();
      conn.close(); // hands the connection to the pool
      if (nice <= 0) {
        return;
      }
      vertx.executeBlocking(() -> renice(pid, nice), false).onComplete(ar -> {
        if (ar.succeeded() && ar.result() == null) {
          LOG.info("{}: PostgreSQL backend {} runs at nice {}", what, pid, nice);
        } else {
          LOG.warn("{}: could not lower the priority of PostgreSQL backend {} ({}); it keeps the default", what, pid,
              ar.succeeded() ? ar.result() : ar.cause().toString());
        }
      });
    };
  }

  /** Runs {@code renice}; null when it worked, else what it said. */
  static String renice(int pid, int nice) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("renice", "-n", Integer.toString(nice), "-p", Integer.toString(pid))
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(10, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return "renice did not finish";
    }
    return p.exitValue() == 0 ? null : "renice exit " + p.exitValue() + ": " + out;
  }

  /** The nice value of a process as the kernel reports it ({@code /proc/PID/stat}, field 19), for tests. */
  public static int niceOf(int pid) throws IOException {
    String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Integer.parseInt(f[16]);
  }
}
