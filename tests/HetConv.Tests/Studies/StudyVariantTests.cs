using HetConv.Studies;
using HetConv.Training;

namespace HetConv.Tests.Studies;

public sealed class StudyVariantTests
{
    [Theory]
    [InlineData("P1")]
    [InlineData("P2")]
    [InlineData("P4")]
    [InlineData("P8")]
    [InlineData("PC")]
    [InlineData("GWC4_PWC")]
    [InlineData("GWC2_PWC")]
    [InlineData("DWC_PWC")]
    [InlineData("P4_SE")]
    [InlineData("DWC_PWC_SE")]
    public void A_variant_trains_the_model_the_zoo_names_the_same(string name)
    {
        var options = new StudyOptions { OutDirectory = "unused" }.RunOptions(name.ToLowerInvariant(), 1, "fashion-mnist", 1);
        Assert.Equal(name, Trainer.ConvDescription(options));
        Assert.Equal(name, StudyVariant.Parse(name.ToLowerInvariant()).Name);
    }

    [Theory]
    [InlineData("P0")]
    [InlineData("P4x")]
    [InlineData("GWC_PWC")]
    [InlineData("standard")]
    [InlineData("")]
    public void An_unknown_name_is_refused_with_the_known_ones(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => StudyVariant.Parse(name));
        Assert.Contains("GWC4_PWC", e.Message);
    }

    [Theory]
    [InlineData(180, 59, 3)]
    [InlineData(180, 60, 3)]
    [InlineData(180, 61, 2)]
    [InlineData(180, 500, 1)]
    public void The_budget_takes_the_whole_epochs_that_fit_and_at_least_one(double budget, double epoch, int expected) =>
        Assert.Equal(expected, StudyBudget.EpochsThatFit(budget, epoch));

    [Fact]
    public void Options_that_cannot_make_a_study_are_refused()
    {
        var ok = new StudyOptions { OutDirectory = "unused" };
        ok.Validate();
        Assert.Throws<ArgumentException>(() => (ok with { Variants = [] }).Validate());
        Assert.Throws<ArgumentException>(() => (ok with { Variants = ["P4", "p4"] }).Validate());
        Assert.Throws<ArgumentException>(() => (ok with { Seeds = 0 }).Validate());
        Assert.Throws<ArgumentException>(() => (ok with { BudgetMinutes = 0 }).Validate());
        Assert.Throws<ArgumentException>(() => (ok with { BudgetMinutes = double.NaN }).Validate());
        Assert.Throws<ArgumentException>(() => (ok with { Epochs = 0 }).Validate());
    }
}
