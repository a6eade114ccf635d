from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "agora.messaging"
    label = "messaging"
    verbose_name = "Conversations"
