"""Article pages."""

from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, ListView

from shop.content.models import Article


class ArticleListView(ListView):
    queryset = Article.objects.filter(published=True)
    template_name = "shop/article_list.html"
    context_object_name = "articles"


class ArticleDetailView(DetailView):
    template_name = "shop/article_detail.html"
    context_object_name = "article"

    def get_object(self, queryset=None):  # type: ignore[no-untyped-def]
        return get_object_or_404(Article, slug=self.kwargs["slug"], published=True)
