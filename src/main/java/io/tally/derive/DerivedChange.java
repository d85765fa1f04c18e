package io.tally.derive;

/**
 * A change of the derived tables, told to the query side so its indexes and cached answers follow: either a flush
 * that added events ({@link DerivedFlush}, on {@link DerivedAddresses#DERIVED_FLUSHED}) or rows moved or removed other
 * than by adding events ({@link DerivedRewrite}, on {@link DerivedAddresses#DERIVED_REWRITTEN}). Both are immutable
 * records sent within the process only, without copying (local codecs registered by the composition root).
 */
public sealed interface DerivedChange permits DerivedFlush, DerivedRewrite {
}
