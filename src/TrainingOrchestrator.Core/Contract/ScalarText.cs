using System.Globalization;
using System.Text.Json;

namespace TrainingOrchestrator.Core.Contract;

/// <summary>
/// Turns a JSON scalar into the string SageMaker receives. Integers keep their digits exactly (any size);
/// other numbers are written as the shortest text that round-trips the double, laid out the way Python
/// prints a float (what training code most often parses): 0.1 -> "0.1", 1e-7 -> "1e-07", 2.0 -> "2.0",
/// 1e16 -> "1e+16". Booleans become "true" / "false".
/// </summary>
public static class ScalarText
{
    /// <summary>The text of a scalar, or null (with the reason) when the value is not a usable scalar.</summary>
    public static string? TryFormat(JsonElement value, out string? problem)
    {
        problem = null;
        switch (value.ValueKind)
        {
            case JsonValueKind.String: return value.GetString();
            case JsonValueKind.True: return "true";
            case JsonValueKind.False: return "false";
            case JsonValueKind.Number: return FormatNumber(value.GetRawText(), out problem);
            case JsonValueKind.Null: problem = "must be a string, number or boolean, not null (leave the key out instead)"; return null;
            default: problem = $"must be a string, number or boolean, not {Describe(value.ValueKind)}"; return null;
        }
    }

    /// <summary>A JSON number literal as SageMaker text; null with a reason when it is not finite as a double.</summary>
    public static string? FormatNumber(string literal, out string? problem)
    {
        problem = null;
        if (IsIntegerLiteral(literal))
            return literal == "-0" ? "0" : literal;
        var number = double.Parse(literal, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (!double.IsFinite(number))
        {
            problem = $"the number {Excerpt(literal)} is out of the range of a double";
            return null;
        }
        return Format(number);
    }

    /// <summary>Shortest round-trip text of a finite double, in Python's float layout.</summary>
    public static string Format(double number)
    {
        if (!double.IsFinite(number)) throw new ArgumentOutOfRangeException(nameof(number), "not finite");
        if (number == 0) return double.IsNegative(number) ? "-0.0" : "0.0";

        // "R" gives the shortest round-trip digits; re-lay them out. On the stack: this runs for every number planned.
        Span<char> roundTrip = stackalloc char[32];
        number.TryFormat(roundTrip, out var written, "R", CultureInfo.InvariantCulture);
        ReadOnlySpan<char> formatted = roundTrip[..written];
        var negative = formatted[0] == '-';
        var body = negative ? formatted[1..] : formatted;
        var exponentAt = body.IndexOfAny('E', 'e');
        var mantissa = exponentAt < 0 ? body : body[..exponentAt];
        var exponent = exponentAt < 0 ? 0 : int.Parse(body[(exponentAt + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var point = mantissa.IndexOf('.');
        var integerDigits = point < 0 ? mantissa.Length : point;
        Span<char> digitBuffer = stackalloc char[32];
        var count = 0;
        foreach (var c in mantissa)
            if (c != '.') digitBuffer[count++] = c;
        ReadOnlySpan<char> digits = digitBuffer[..count];
        var leadingZeros = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        // Decimal exponent of the first significant digit.
        var decimalExponent = integerDigits - leadingZeros - 1 + exponent;

        Span<char> text = stackalloc char[64];
        var at = 0;
        if (negative) text[at++] = '-';
        if (decimalExponent is >= 0 and < 16)
        {
            var wholeLength = decimalExponent + 1;
            if (digits.Length > wholeLength)
            {
                Append(text, ref at, digits[..wholeLength]);
                text[at++] = '.';
                Append(text, ref at, digits[wholeLength..]);
            }
            else
            {
                Append(text, ref at, digits);
                text.Slice(at, wholeLength - digits.Length).Fill('0');
                at += wholeLength - digits.Length;
                Append(text, ref at, ".0");
            }
        }
        else if (decimalExponent is >= -4 and < 0)
        {
            Append(text, ref at, "0.");
            text.Slice(at, -decimalExponent - 1).Fill('0');
            at += -decimalExponent - 1;
            Append(text, ref at, digits);
        }
        else
        {
            text[at++] = digits[0];
            if (digits.Length > 1)
            {
                text[at++] = '.';
                Append(text, ref at, digits[1..]);
            }
            text[at++] = 'e';
            text[at++] = decimalExponent < 0 ? '-' : '+';
            Math.Abs(decimalExponent).TryFormat(text[at..], out var exponentLength, "00", CultureInfo.InvariantCulture);
            at += exponentLength;
        }
        return new string(text[..at]);
    }

    private static void Append(Span<char> text, ref int at, ReadOnlySpan<char> part)
    {
        part.CopyTo(text[at..]);
        at += part.Length;
    }

    /// <summary>An integer literal as JSON writes it: optional minus, digits, no fraction or exponent.</summary>
    public static bool IsIntegerLiteral(string literal) =>
        literal.Length > 0 && !literal.AsSpan().ContainsAny('.', 'e', 'E');

    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    /// <summary>
    /// A request value as our errors quote it: whole up to <paramref name="whole"/> characters, else its first
    /// <paramref name="kept"/> and its length (a request may send thousands of digits, which no message repeats).
    /// </summary>
    public static string Excerpt(string text, int whole = 40, int kept = 24) =>
        text.Length <= whole ? text : $"{text[..kept]}... ({text.Length} characters)";
}
