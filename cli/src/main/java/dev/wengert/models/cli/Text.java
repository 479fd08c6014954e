package dev.wengert.models.cli;

import java.util.Locale;

/** Small wording helpers, so every message counts the same way ("1 epoch", "2 epochs"). */
final class Text {
    private Text() {
    }

    /** "1 epoch", "3 epochs", "8,000 images". */
    static String count(long n, String singular) {
        return String.format(Locale.ROOT, "%,d %s", n, n == 1 ? singular : plural(singular));
    }

    private static String plural(String singular) {
        if (singular.endsWith("y") && singular.length() > 1 && "aeiou".indexOf(singular.charAt(singular.length() - 2)) < 0) {
            return singular.substring(0, singular.length() - 1) + "ies";
        }
        return singular.endsWith("s") || singular.endsWith("x") ? singular + "es" : singular + "s";
    }

    /** A percentage with two decimals: "89.80%". */
    static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.2f%%", 100 * fraction);
    }
}
