from pydantic import BaseModel, ConfigDict, Field


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="5 dígitos = subgrupo CEAD; 3 dígitos = código propio de Vigía.")
    name: str
    family_code: str
    family_name: str
    taxonomy_version: str = Field(examples=["cead-2024"])
    dmcs: bool = Field(description="Pertenece al conjunto DMCS heredado (hasta 2023).")
    sensitive: bool = Field(
        description="Categoría sensible: nunca se publica bajo el nivel comunal."
    )
    violent: bool
    drug_kind: str | None = Field(
        description="trafico, microtrafico, elaboracion, otras, consumo o porte (Ley 20.000)."
    )
    cead_series: str | None = Field(description="Serie mensual de CEAD que la contiene.")
