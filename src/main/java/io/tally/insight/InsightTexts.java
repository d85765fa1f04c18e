package io.tally.insight;

import io.vertx.core.json.JsonArray;

import java.util.Map;

/**
 * The texts of each insight type in English and French (the seed's French texts are the French ones). Titles and
 * descriptions take {@code {name}} placeholders filled from the insight's subject and metrics.
 */
final class InsightTexts {
  private InsightTexts() {
  }

  record Text(String title, String description, String... recommendations) {}

  private static final Map<String, Text[]> TEXTS = Map.ofEntries(
      Map.entry("retention_warning", new Text[] {
          new Text("Low retention rate", "The user's retention rate is below {threshold%}",
              "Send re-engagement emails", "Suggest unused features", "Offer personalised support"),
          new Text("Faible taux de rétention", "L'utilisateur a un taux de rétention inférieur à {threshold%}",
              "Envoyer des emails de réengagement", "Suggérer des fonctionnalités non utilisées",
              "Offrir un support personnalisé")}),
      Map.entry("cost_optimization", new Text[] {
          new Text("Cost optimisation opportunity", "The user spent more than {threshold}€ this period",
              "Suggest cheaper models", "Optimise prompts", "Set usage limits"),
          new Text("Opportunité d'optimisation des coûts", "L'utilisateur dépense plus de {threshold}€ cette période",
              "Suggérer des modèles plus économiques", "Optimiser les prompts", "Configurer des limites d'utilisation")}),
      Map.entry("user_error_rate", new Text[] {
          new Text("High error rate for this user", "{errorRate%} of this user's messages ended in an error "
              + "(threshold {threshold%})", "Check the errors this user hit", "Contact the user",
              "Check the provider and model they use"),
          new Text("Taux d'erreurs élevé pour cet utilisateur", "{errorRate%} des messages de cet utilisateur ont "
              + "abouti à une erreur (seuil {threshold%})", "Examiner les erreurs rencontrées par l'utilisateur",
              "Contacter l'utilisateur", "Vérifier le fournisseur et le modèle utilisés")}),
      Map.entry("cheaper_model", new Text[] {
          new Text("A cheaper model is available", "{modelShare%} of this user's spend goes to {model}; {cheaper} "
              + "costs {ratio%} as much per message in this project",
              "Suggest {cheaper} for routine requests", "Route simple prompts to the cheaper model",
              "Set a per-user budget"),
          new Text("Un modèle moins cher est disponible", "{modelShare%} des dépenses de cet utilisateur vont à "
              + "{model} ; {cheaper} coûte {ratio%} de ce prix par message dans ce projet",
              "Suggérer {cheaper} pour les requêtes courantes", "Orienter les prompts simples vers le modèle moins cher",
              "Fixer un budget par utilisateur")}),
      Map.entry("performance_alert", new Text[] {
          new Text("High error rate", "The error rate exceeds {threshold%} ({errorRate%})",
              "Investigate recent errors", "Check the infrastructure", "Notify the technical team"),
          new Text("Taux d'erreurs élevé", "Le taux d'erreurs dépasse {threshold%} ({errorRate%})",
              "Investiguer les erreurs récentes", "Vérifier l'infrastructure", "Notifier l'équipe technique")}),
      Map.entry("anomaly", new Text[] {
          new Text("Anomaly in {metric}", "{metric} was {actual} at {timestamp}, expected about {expected} "
              + "(score {score}, {direction})", "Check what changed at that time", "Compare with deployments "
              + "and provider status", "Watch the next periods"),
          new Text("Anomalie sur {metric}", "{metric} valait {actual} à {timestamp}, environ {expected} attendu "
              + "(score {score}, {direction})", "Vérifier ce qui a changé à ce moment", "Comparer avec les "
              + "déploiements et l'état des fournisseurs", "Surveiller les périodes suivantes")}),
      Map.entry("funnel_dropoff", new Text[] {
          new Text("Largest funnel drop-off at {step}", "{percentage%} of users who reached {previous} did not "
              + "go on to {step}", "Simplify the step {step}", "Look at the drop-off reasons",
              "Test a change on this step"),
          new Text("Plus forte perte du tunnel à {step}", "{percentage%} des utilisateurs arrivés à {previous} ne "
              + "sont pas allés jusqu'à {step}", "Simplifier l'étape {step}", "Examiner les raisons d'abandon",
              "Tester une modification de cette étape")}),
      Map.entry("active_users_growth", new Text[] {
          new Text("Active users growing", "Active users grew by {change%} versus the previous period",
              "Make sure capacity follows", "Find what drives the growth", "Welcome the new users well"),
          new Text("Utilisateurs actifs en hausse", "Les utilisateurs actifs ont augmenté de {change%} par rapport "
              + "à la période précédente", "Vérifier que la capacité suit", "Identifier ce qui porte la croissance",
              "Bien accueillir les nouveaux utilisateurs")}),
      Map.entry("active_users_decline", new Text[] {
          new Text("Active users shrinking", "Active users fell by {change%} versus the previous period",
              "Contact the users who left", "Check recent changes and errors", "Launch a re-engagement campaign"),
          new Text("Utilisateurs actifs en baisse", "Les utilisateurs actifs ont baissé de {change%} par rapport à "
              + "la période précédente", "Contacter les utilisateurs partis", "Vérifier les changements et erreurs "
              + "récents", "Lancer une campagne de réengagement")}),
      Map.entry("cost_spike", new Text[] {
          new Text("Cost spike on {model}", "{model} cost {cost} this period, {ratio}× the previous period ({previous})",
              "Check who drives the spend", "Set usage limits", "Consider a cheaper model"),
          new Text("Pic de coûts sur {model}", "{model} a coûté {cost} sur la période, {ratio}× la période "
              + "précédente ({previous})", "Identifier qui porte la dépense", "Configurer des limites d'utilisation",
              "Envisager un modèle moins cher")}),
      Map.entry("slow_provider", new Text[] {
          new Text("Slowest provider: {provider}", "{provider} answers in {responseTime} ms on average, "
              + "{ratio}× the other providers ({others} ms)", "Route latency-sensitive traffic elsewhere",
              "Check the provider's status", "Use streaming responses"),
          new Text("Fournisseur le plus lent : {provider}", "{provider} répond en {responseTime} ms en moyenne, "
              + "{ratio}× les autres fournisseurs ({others} ms)", "Orienter le trafic sensible à la latence ailleurs",
              "Vérifier l'état du fournisseur", "Utiliser des réponses en streaming")}),
      Map.entry("pattern", new Text[] {
          new Text("{name}", "{frequency} users ({share%} of active users) match \"{name}\" — backtested "
              + "confidence {confidence%}"),
          new Text("{name}", "{frequency} utilisateurs ({share%} des utilisateurs actifs) correspondent à "
              + "« {name} » — confiance mesurée {confidence%}")}));

  static Text get(String type, boolean french) {
    return TEXTS.get(type)[french ? 1 : 0];
  }

  /** Fills {key} with a value, {key%} with the value as a percentage (1 decimal). */
  static String fill(String s, Map<String, Object> values) {
    String out = s;
    for (Map.Entry<String, Object> e : values.entrySet()) {
      Object v = e.getValue();
      if (v instanceof Number n) {
        out = out.replace("{" + e.getKey() + "%}", String.format(java.util.Locale.ROOT, "%.1f %%",
            n.doubleValue() * 100));
        out = out.replace("{" + e.getKey() + "}", format(n));
      } else {
        out = out.replace("{" + e.getKey() + "}", String.valueOf(v));
      }
    }
    return out;
  }

  static String format(Number n) {
    double d = n.doubleValue();
    if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      return Long.toString((long) d);
    }
    return String.format(java.util.Locale.ROOT, Math.abs(d) >= 100 ? "%.0f" : "%.2f", d);
  }

  static JsonArray recommendations(Text t, Map<String, Object> values) {
    JsonArray a = new JsonArray();
    for (String r : t.recommendations()) {
      a.add(fill(r, values));
    }
    return a;
  }
}
