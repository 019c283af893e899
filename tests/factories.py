import datetime
from decimal import Decimal

import factory
from django.apps import apps
from django.contrib.auth.models import Group, User

from accounts.roles import roles_sync
from catalog.models import (
    ApiDeployment,
    CommercialUse,
    HardwareProfile,
    LanguageModel,
    Licence,
    ReportedScore,
    SelfHostedDeployment,
    Source,
    Weights,
)


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    key = factory.Sequence(lambda n: f"source-{n}")
    title = factory.Sequence(lambda n: f"A paper {n}")
    url = factory.Sequence(lambda n: f"https://example.org/paper/{n}")


class LicenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Licence

    key = factory.Sequence(lambda n: f"licence-{n}")
    name = factory.Sequence(lambda n: f"Licence {n}")
    commercial_use = CommercialUse.ALLOWED


class LanguageModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LanguageModel

    key = factory.Sequence(lambda n: f"model-{n}")
    name = factory.Sequence(lambda n: f"Model {n}")
    family = "Testfamily"
    organisation = "Test Lab"
    parameters = 7_000_000_000
    parameters_source = factory.SubFactory(SourceFactory)
    training_tokens = 2_000_000_000_000
    training_tokens_source = factory.SelfAttribute("parameters_source")
    weights = Weights.OPEN
    weights_source = factory.SelfAttribute("parameters_source")
    licence = factory.SubFactory(LicenceFactory)
    licence_source = factory.SelfAttribute("parameters_source")


class HardwareProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HardwareProfile

    key = factory.Sequence(lambda n: f"hw-{n}")
    name = factory.Sequence(lambda n: f"1 x GPU {n}")
    gpu = "NVIDIA A100 80GB"
    gpu_memory_gb = 80
    gpu_count = 1
    usd_per_hour = Decimal("1.50")
    price_seen_on = datetime.date(2024, 6, 1)
    price_source = factory.SubFactory(SourceFactory)
    spec_source = factory.SelfAttribute("price_source")


class ApiDeploymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiDeployment

    model = factory.SubFactory(LanguageModelFactory)
    provider = "Provider"
    api_model = factory.Sequence(lambda n: f"api-model-{n}")
    usd_per_million_input = Decimal("0.50")
    usd_per_million_output = Decimal("1.50")
    price_seen_on = datetime.date(2024, 6, 1)
    price_source = factory.SubFactory(SourceFactory)
    provider_retains_data = True
    provider_trains_on_data = False


class SelfHostedDeploymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SelfHostedDeployment

    model = factory.SubFactory(LanguageModelFactory)
    precision = "bf16"
    hardware = factory.SubFactory(HardwareProfileFactory)


class ReportedScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportedScore

    model = factory.SubFactory(LanguageModelFactory)
    benchmark = "mmlu"
    shots = 5
    value = Decimal("0.6000")
    source = factory.SubFactory(SourceFactory)
    locator = "Table 1"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "a-long-test-password")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            if not Group.objects.filter(name=extracted).exists():
                # A transactional test empties every table, the migration's roles too.
                roles_sync(apps)
            self.groups.add(Group.objects.get(name=extracted))
            self.is_staff = extracted == "Catalog admins"
        if create:
            self.save()
