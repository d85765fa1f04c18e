package io.tally.loadtest;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Reads a few values from Tally's /metrics for the progress line (ring occupancy, heap). */
final class MetricsScrape {
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final URI metrics;
  private String last = "";

  MetricsScrape(URI target) {
    this.metrics = target.resolve("/metrics");
  }

  private String text() {
    try {
      last = client.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.ofString()).body();
    } catch (Exception e) {
      // keep the previous scrape
    }
    return last;
  }

  String value(String name) {
    for (String line : text().split("\n")) {
      if (line.startsWith(name + " ")) {
        return String.valueOf(Math.round(Double.parseDouble(line.substring(name.length() + 1).trim())));
      }
    }
    return "?";
  }

  long heapMiB() {
    double sum = 0;
    for (String line : last.split("\n")) {
      if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return Math.round(sum / (1 << 20));
  }
}
