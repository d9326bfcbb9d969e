using HetConv.Training;

namespace HetConv.Tests.Training;

public class LearningRateScheduleTests
{
    [Fact]
    public void Step_divides_by_ten_every_fifty_epochs()
    {
        var s = new LearningRateSchedule { Kind = ScheduleKind.Step, LearningRate = 0.1, StepEpochs = 50, Gamma = 0.1 };
        Assert.Equal(0.1, s.At(0, 0, 10, 150), 12);
        Assert.Equal(0.1, s.At(49, 9, 10, 150), 12);
        Assert.Equal(0.01, s.At(50, 0, 10, 150), 12);
        Assert.Equal(0.001, s.At(100, 3, 10, 150), 12);
    }

    [Fact]
    public void Multi_step_decays_at_each_milestone()
    {
        var s = new LearningRateSchedule { Kind = ScheduleKind.MultiStep, LearningRate = 0.1, Milestones = new[] { 82, 123 }, Gamma = 0.1 };
        Assert.Equal(0.1, s.At(81, 390, 391, 164), 12);
        Assert.Equal(0.01, s.At(82, 0, 391, 164), 12);
        Assert.Equal(0.001, s.At(163, 390, 391, 164), 12);
    }

    [Fact]
    public void Cosine_goes_from_the_base_rate_to_zero_through_half()
    {
        var s = new LearningRateSchedule { Kind = ScheduleKind.Cosine, LearningRate = 0.2 };
        Assert.Equal(0.2, s.At(0, 0, 21, 1), 12);
        Assert.Equal(0.1, s.At(0, 10, 21, 1), 12);   // step 10 of 0..20: the middle
        Assert.Equal(0.2 * 0.5 * (1 + Math.Cos(Math.PI * 0.25)), s.At(0, 5, 21, 1), 12);   // step 5 of 0..20
        Assert.Equal(0.0, s.At(0, 20, 21, 1), 12);
    }

    [Fact]
    public void One_cycle_warms_up_linearly_then_anneals()
    {
        var s = new LearningRateSchedule { Kind = ScheduleKind.OneCycle, LearningRate = 0.1, WarmupFraction = 0.2 };
        // 11 steps: progress k/10, warm-up until progress 0.2 (step 2).
        double[] rates = Enumerable.Range(0, 11).Select(k => s.At(0, k, 11, 1)).ToArray();
        Assert.Equal(0.004, rates[0], 12);                       // peak / 25
        Assert.Equal(0.004 + 0.096 / 2, rates[1], 12);          // half-way up
        Assert.Equal(0.1, rates[2], 12);                         // the peak
        Assert.Equal(0.004 / 1e4, rates[10], 12);                // start / 1e4
        double middle = 0.004e-4 + (0.1 - 0.004e-4) * 0.5;      // half-way down the cosine: progress 0.6
        Assert.Equal(middle, rates[6], 12);
        for (int k = 3; k < 11; k++) Assert.True(rates[k] < rates[k - 1]);
    }

    [Theory]
    [InlineData(0.0, 0.15, 50, "learning rate")]
    [InlineData(0.1, 1.0, 50, "warm-up")]
    [InlineData(0.1, 0.15, 0, "step schedule")]
    public void Bad_settings_are_named(double rate, double warmup, int stepEpochs, string named)
    {
        var s = new LearningRateSchedule { LearningRate = rate, WarmupFraction = warmup, StepEpochs = stepEpochs };
        Assert.Contains(named, Assert.Throws<ArgumentException>(s.Validate).Message);
    }
}
