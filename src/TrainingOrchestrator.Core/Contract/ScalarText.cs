using System.Globalization;
using System.Text;
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
            problem = $"the number {literal} is out of the range of a double";
            return null;
        }
        return Format(number);
    }

    /// <summary>Shortest round-trip text of a finite double, in Python's float layout.</summary>
    public static string Format(double number)
    {
        if (!double.IsFinite(number)) throw new ArgumentOutOfRangeException(nameof(number), "not finite");
        if (number == 0) return double.IsNegative(number) ? "-0.0" : "0.0";

        // "R" gives the shortest round-trip digits; re-lay them out.
        var roundTrip = number.ToString("R", CultureInfo.InvariantCulture);
        var negative = roundTrip[0] == '-';
        var body = negative ? roundTrip[1..] : roundTrip;
        var exponentAt = body.IndexOfAny(['E', 'e']);
        var mantissa = exponentAt < 0 ? body : body[..exponentAt];
        var exponent = exponentAt < 0 ? 0 : int.Parse(body[(exponentAt + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var point = mantissa.IndexOf('.');
        var integerDigits = point < 0 ? mantissa.Length : point;
        var digits = mantissa.Replace(".", "", StringComparison.Ordinal);
        var leadingZeros = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        // Decimal exponent of the first significant digit.
        var decimalExponent = integerDigits - leadingZeros - 1 + exponent;

        var text = new StringBuilder(32);
        if (negative) text.Append('-');
        if (decimalExponent is >= -4 and < 16)
        {
            if (decimalExponent >= 0)
            {
                var whole = digits.Length > decimalExponent + 1 ? digits[..(decimalExponent + 1)] : digits.PadRight(decimalExponent + 1, '0');
                var fraction = digits.Length > decimalExponent + 1 ? digits[(decimalExponent + 1)..] : "0";
                text.Append(whole).Append('.').Append(fraction);
            }
            else
            {
                text.Append("0.").Append('0', -decimalExponent - 1).Append(digits);
            }
        }
        else
        {
            text.Append(digits[0]);
            if (digits.Length > 1) text.Append('.').Append(digits, 1, digits.Length - 1);
            text.Append('e').Append(decimalExponent < 0 ? '-' : '+')
                .Append(Math.Abs(decimalExponent).ToString("00", CultureInfo.InvariantCulture));
        }
        return text.ToString();
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
}
