package io.tally.derive;

import java.util.List;
import java.util.Set;

/**
 * Derived rows moved or removed other than by a flush adding events: an identity merge (a person's events and rows
 * moved to the user they were linked to), a person deleted by an admin, or history rewritten by retention or an
 * archive restore. Whoever remembers stored rows forgets them; every cached answer of the projects is dropped.
 *
 * @param projects  the projects whose history changed
 * @param merges    identity merges: the person key {@code from} now belongs to {@code to}
 * @param deleted   the person keys deleted (every id of a deleted person)
 * @param rewritten events left or entered the table other than by a person's deletion (retention, restore): indexes
 *                  holding events reload
 */
public record DerivedRewrite(Set<String> projects, List<IdentityMerge> merges, List<PersonKey> deleted,
                             boolean rewritten) implements DerivedChange {
  public DerivedRewrite {
    projects = Set.copyOf(projects);
    merges = List.copyOf(merges);
    deleted = List.copyOf(deleted);
  }

  /** The rewrite of one identity merge in {@code project}. */
  public static DerivedRewrite merge(String project, String from, String to) {
    return new DerivedRewrite(Set.of(project), List.of(new IdentityMerge(project, from, to)), List.of(), false);
  }

  /** In {@code project}, the person key {@code from} was merged into {@code to}. */
  public record IdentityMerge(String project, String from, String to) {}

  /** A person key of {@code project}. */
  public record PersonKey(String project, String person) {}
}
