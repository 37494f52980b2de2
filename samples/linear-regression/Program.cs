using System.Globalization;
using System.Text.Json;

// A linear regression y = slope * x + intercept, trained by gradient descent on standardised x.
// It follows SageMaker's container contract: hyperparameters from input/config/hyperparameters.json (all values
// strings), data from input/data/<channel>/ (CSV lines "x,y"), the model into model/, the reason of a failure into
// output/failure with a non-zero exit. A custom image gets no SM_* variables (those are the training toolkit's, for
// framework images): the paths are the contract's, under /opt/ml.

const string modelDir = "/opt/ml/model";
const string configDir = "/opt/ml/input/config";
const string outputDir = "/opt/ml/output";
const string trainDir = "/opt/ml/input/data/train";
const string validationDir = "/opt/ml/input/data/validation";

try
{
    var hyperparameters = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(Path.Combine(configDir, "hyperparameters.json"))) ?? [];
    var learningRate = Number(hyperparameters, "learning_rate", 0.1);
    var epochs = (int)Number(hyperparameters, "epochs", 200);
    var train = Read(trainDir);
    var validation = Directory.Exists(validationDir) ? Read(validationDir) : [];
    if (learningRate <= 0 || epochs < 1)
        throw new InvalidDataException($"learning_rate must be > 0 and epochs >= 1, got {learningRate} and {epochs}");

    var meanX = train.Average(p => p.X);
    var stdX = Math.Sqrt(train.Average(p => (p.X - meanX) * (p.X - meanX)));
    if (stdX == 0) stdX = 1;
    double w = 0, b = 0;
    for (var epoch = 1; epoch <= epochs; epoch++)
    {
        double gw = 0, gb = 0;
        foreach (var (x, y) in train)
        {
            var error = w * ((x - meanX) / stdX) + b - y;
            gw += error * (x - meanX) / stdX;
            gb += error;
        }
        w -= learningRate * 2 * gw / train.Count;
        b -= learningRate * 2 * gb / train.Count;
        if (epoch % Math.Max(1, epochs / 10) == 0 || epoch == epochs)
            Console.WriteLine(FormattableString.Invariant($"epoch={epoch} train:mse={Mse(train):G6}"));
    }
    var slope = w / stdX;
    var intercept = b - w * meanX / stdX;
    if (validation.Count > 0)
        Console.WriteLine(FormattableString.Invariant($"validation:mse={Mse(validation):G6}"));
    Console.WriteLine(FormattableString.Invariant($"model: y = {slope:G6} * x + {intercept:G6}; prediction for x=14: {slope * 14 + intercept:G6}"));

    Directory.CreateDirectory(modelDir);
    File.WriteAllText(Path.Combine(modelDir, "model.json"), JsonSerializer.Serialize(new Dictionary<string, double> { ["slope"] = slope, ["intercept"] = intercept }));
    return 0;

    double Mse(List<(double X, double Y)> points) => points.Average(p => Math.Pow(Predict(p.X) - p.Y, 2));
    double Predict(double x) => w * ((x - meanX) / stdX) + b;
}
catch (Exception e) when (e is InvalidDataException or IOException or FormatException or JsonException or InvalidOperationException)
{
    Directory.CreateDirectory(outputDir);
    File.WriteAllText(Path.Combine(outputDir, "failure"), $"{e.GetType().Name}: {e.Message}");
    Console.Error.WriteLine($"training failed: {e.Message}");
    return 1;
}

static double Number(Dictionary<string, string> hyperparameters, string name, double fallback) =>
    hyperparameters.TryGetValue(name, out var text)
        ? double.Parse(text.Trim('"'), NumberStyles.Float, CultureInfo.InvariantCulture)
        : fallback;

static List<(double X, double Y)> Read(string folder)
{
    if (!Directory.Exists(folder))
        throw new InvalidDataException($"no data folder {folder}");
    var points = new List<(double, double)>();
    foreach (var file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        foreach (var (line, number) in File.ReadLines(file).Select((l, i) => (l.Trim(), i + 1)))
        {
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith("x,", StringComparison.Ordinal)) continue;
            var parts = line.Split(',');
            if (parts.Length != 2
                || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var x)
                || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var y))
                throw new InvalidDataException($"{Path.GetFileName(file)} line {number}: expected 'x,y', got '{line}'");
            points.Add((x, y));
        }
    if (points.Count < 2)
        throw new InvalidDataException($"{folder} holds {points.Count} data points; at least 2 are needed");
    return points;
}
