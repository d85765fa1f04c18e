package io.tally.config;

/** Invalid configuration: the message always names the offending key. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }
}
