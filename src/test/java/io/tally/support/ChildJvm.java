package io.tally.support;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a JVM that a test starts itself (Tally's {@code Main}, as a user runs it). It carries the
 * JaCoCo agent of this test JVM, when there is one (mvn verify puts it on Surefire's argLine), so that the lines the
 * child runs count in the coverage report too: the agent appends to the same execution-data file under a file lock,
 * when the child exits normally (a child killed with SIGKILL records nothing).
 */
public final class ChildJvm {
  private ChildJvm() {
  }

  /** {@code java}, then this JVM's JaCoCo agent if any, then {@code args}. */
  public static List<String> command(String java, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.addAll(coverageAgent());
    cmd.addAll(List.of(args));
    return cmd;
  }

  static List<String> coverageAgent() {
    return ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(a -> a.startsWith("-javaagent:") && a.contains("jacoco"))
        .toList();
  }
}
